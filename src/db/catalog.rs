//! The database's own description of itself: its tables with their columns, and which table
//! refers to which. Read at run time, so work that must reach every table (a person's data
//! export, an organisation's purge) covers a new area's tables without a list kept by hand.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Every table of the database with its columns in order (`seaql_migrations` left out).
pub async fn tables(db: &impl ConnectionTrait) -> Result<BTreeMap<String, Vec<String>>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
        }
    };
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let (t, c): (String, String) = (row.try_get("", "t")?, row.try_get("", "c")?);
        if t == "seaql_migrations" {
            continue;
        }
        out.entry(t).or_default().push(c);
    }
    Ok(out)
}

/// For each table, the other tables its foreign keys refer to.
pub async fn references(db: &impl ConnectionTrait) -> Result<BTreeMap<String, BTreeSet<String>>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT tc.table_name::text AS child, ccu.table_name::text AS parent
             FROM information_schema.table_constraints tc
             JOIN information_schema.constraint_column_usage ccu
               ON ccu.constraint_name = tc.constraint_name AND ccu.constraint_schema = tc.constraint_schema
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
        }
        _ => {
            "SELECT m.name AS child, p.\"table\" AS parent FROM sqlite_master m, pragma_foreign_key_list(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
    };
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        let (child, parent): (String, String) = (row.try_get("", "child")?, row.try_get("", "parent")?);
        if child != parent {
            out.entry(child).or_default().insert(parent);
        }
    }
    Ok(out)
}

/// `tables` ordered so that each comes before every table it refers to (children first: the
/// order to delete in). Tables in a cycle keep their alphabetical order among themselves.
pub fn children_first(tables: &[String], refs: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let set: BTreeSet<&String> = tables.iter().collect();
    let mut out: Vec<String> = Vec::with_capacity(tables.len());
    let mut left: BTreeSet<&String> = set.clone();
    while !left.is_empty() {
        // A table may go once no table still left refers to it.
        let ready: Vec<&String> = left
            .iter()
            .copied()
            .filter(|t| {
                !left.iter().any(|other| other != t && refs.get(*other).is_some_and(|p| p.contains(*t)))
            })
            .collect();
        let batch = if ready.is_empty() { vec![*left.iter().next().expect("not empty")] } else { ready };
        for t in batch {
            left.remove(t);
            out.push(t.clone());
        }
    }
    out
}

/// Quotes an identifier read off the catalog (plain snake_case names; a quote inside would be
/// doubled all the same).
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_come_before_the_tables_they_refer_to() {
        let refs: BTreeMap<String, BTreeSet<String>> = [
            ("team_members".to_string(), ["teams".to_string(), "memberships".to_string()].into()),
            ("teams".to_string(), ["tenants".to_string()].into()),
            ("memberships".to_string(), ["tenants".to_string(), "roles".to_string()].into()),
            ("roles".to_string(), ["tenants".to_string()].into()),
        ]
        .into();
        let tables: Vec<String> = ["memberships", "roles", "team_members", "teams", "tenants"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let order = children_first(&tables, &refs);
        let at = |t: &str| order.iter().position(|x| x == t).unwrap();
        assert!(at("team_members") < at("teams"));
        assert!(at("team_members") < at("memberships"));
        assert!(at("memberships") < at("roles"));
        assert!(at("roles") < at("tenants"));
        assert_eq!(order.len(), 5);
    }

    #[test]
    fn a_cycle_does_not_stop_the_order() {
        let refs: BTreeMap<String, BTreeSet<String>> =
            [("a".to_string(), ["b".to_string()].into()), ("b".to_string(), ["a".to_string()].into())].into();
        let order = children_first(&["a".to_string(), "b".to_string()], &refs);
        assert_eq!(order.len(), 2);
    }
}
