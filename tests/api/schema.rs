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
