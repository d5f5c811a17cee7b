#[test]
fn committed_schema_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql")).unwrap();
    let current = zygo::graphql::sdl();
    assert!(
        committed == current,
        "schema/schema.graphql is stale: run `cargo run -- export-schema schema/schema.graphql` and commit it"
    );
}

#[test]
fn export_schema_command_prints_the_same_sdl() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zygo")).arg("export-schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), zygo::graphql::sdl());
}

#[test]
fn the_readme_lists_every_permission_with_the_built_in_grants() {
    use zygo::auth::{Permission, permissions::BUILTIN_ROLES};
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for p in Permission::ALL {
        let line = readme
            .lines()
            .find(|l| l.contains(&format!("| `{}` |", p.key())))
            .unwrap_or_else(|| panic!("README's permission catalog lacks {}", p.key()));
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | permission | key | owner | admin | member | viewer | what |
        for (i, role) in ["owner", "admin", "member", "viewer"].iter().enumerate() {
            let granted = BUILTIN_ROLES.iter().find(|r| r.key == *role).unwrap().permissions.contains(p);
            assert_eq!(
                cells[3 + i] == "✓",
                granted,
                "README says {role} {} {}",
                if granted { "lacks" } else { "has" },
                p.key()
            );
        }
    }
}
