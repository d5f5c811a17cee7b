//! The data-collection catalog, owned by the platform (no tenant): platforms (Facebook,
//! Instagram, …), platform services pairing a platform with a service type and the
//! provider dataset that collects it (input JSON Schema, output field mapping), which
//! organisations may use which service (by plan, with per-organisation overrides), and the
//! provider credentials per environment (the API token and webhook secret sealed).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000045_collection_catalog"
    }
}

/// A column name.
pub(crate) fn c(name: &'static str) -> Alias {
    Alias::new(name)
}

/// A unique or plain index on `cols` of `table`.
pub(crate) fn index(
    name: &str,
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(c(table));
    for col in cols {
        i.col(c(col));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

/// A cascading foreign key.
pub(crate) fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(c(from), c(col))
        .to(c(to), c("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// The embedded default's catalog: the six platforms, and a sample posts collector for
/// Instagram and TikTok open to every organisation (no provider account needed).
async fn seed(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::{JsonValue, prelude::Uuid};
    let platforms = [
        ("0193a000-0000-7000-8000-000000000001", "instagram", "Instagram", "#e1306c"),
        ("0193a000-0000-7000-8000-000000000002", "tiktok", "TikTok", "#000000"),
        ("0193a000-0000-7000-8000-000000000003", "facebook", "Facebook", "#1877f2"),
        ("0193a000-0000-7000-8000-000000000004", "linkedin", "LinkedIn", "#0a66c2"),
        ("0193a000-0000-7000-8000-000000000005", "x", "X", "#111111"),
        ("0193a000-0000-7000-8000-000000000006", "youtube", "YouTube", "#ff0000"),
    ];
    let id = |s: &str| Uuid::parse_str(s).expect("a literal UUID");
    let mut q = Query::insert();
    q.into_table(c("collection_platforms")).columns(
        ["id", "key", "name", "description", "icon", "colour", "enabled", "created_at", "updated_at"].map(c),
    );
    for (uuid, key, name, colour) in platforms {
        q.values_panic([
            id(uuid).into(),
            key.into(),
            name.into(),
            format!("Public {name} data").into(),
            key.into(),
            colour.into(),
            true.into(),
            Expr::current_timestamp(),
            Expr::current_timestamp(),
        ]);
    }
    m.exec_stmt(q).await?;
    let schema: JsonValue = serde_json::json!({
        "type": "object",
        "properties": { "num_of_posts": { "type": "integer", "minimum": 1, "maximum": 100 } },
        "additionalProperties": false
    });
    let services = [
        ("0193a000-0000-7000-8000-000000000101", platforms[0].0, "Instagram posts (sample)"),
        ("0193a000-0000-7000-8000-000000000102", platforms[1].0, "TikTok posts (sample)"),
    ];
    let mut q = Query::insert();
    q.into_table(c("collection_services")).columns(
        [
            "id",
            "platform_id",
            "service_type",
            "name",
            "provider",
            "dataset_id",
            "input_schema",
            "output_mapping",
            "enabled",
            "created_at",
            "updated_at",
        ]
        .map(c),
    );
    let mut g = Query::insert();
    g.into_table(c("collection_grants"))
        .columns(["id", "service_id", "plan", "allowed", "created_at"].map(c));
    for (i, (uuid, platform, name)) in services.into_iter().enumerate() {
        q.values_panic([
            id(uuid).into(),
            id(platform).into(),
            "posts".into(),
            name.into(),
            "sample".into(),
            "sample".into(),
            schema.clone().into(),
            serde_json::json!({}).into(),
            true.into(),
            Expr::current_timestamp(),
            Expr::current_timestamp(),
        ]);
        g.values_panic([
            id(&format!("0193a000-0000-7000-8000-00000000020{}", i + 1)).into(),
            id(uuid).into(),
            "*".into(),
            true.into(),
            Expr::current_timestamp(),
        ]);
    }
    m.exec_stmt(q).await?;
    m.exec_stmt(g).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("collection_platforms"))
                .col(pk_uuid(c("id")))
                .col(string(c("key")))
                .col(string(c("name")))
                .col(text(c("description")))
                .col(string(c("icon")))
                .col(string(c("colour")))
                .col(boolean(c("enabled")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_collection_platforms_key", "collection_platforms", &["key"], true)).await?;
        m.create_table(
            Table::create()
                .table(c("collection_services"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("platform_id")))
                .col(string(c("service_type")))
                .col(string(c("name")))
                .col(string(c("provider")))
                .col(string(c("dataset_id")))
                .col(json(c("input_schema")))
                .col(json(c("output_mapping")))
                .col(boolean(c("enabled")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("collection_services", "platform_id", "collection_platforms"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_collection_services_pair",
            "collection_services",
            &["platform_id", "service_type"],
            true,
        ))
        .await?;
        // A grant names a plan (every organisation on it) or one organisation (an override,
        // which may also refuse what its plan grants).
        m.create_table(
            Table::create()
                .table(c("collection_grants"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("service_id")))
                .col(string_null(c("plan")))
                .col(uuid_null(c("organisation_id")))
                .col(boolean(c("allowed")))
                .col(timestamp_with_time_zone(c("created_at")))
                .foreign_key(&mut fk("collection_grants", "service_id", "collection_services"))
                .foreign_key(&mut fk("collection_grants", "organisation_id", "tenants"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_collection_grants_plan",
            "collection_grants",
            &["service_id", "plan", "organisation_id"],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(c("collection_credentials"))
                .col(pk_uuid(c("id")))
                .col(string(c("environment")))
                .col(text(c("api_token")))
                .col(text(c("webhook_secret")))
                .col(timestamp_with_time_zone_null(c("validated_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_collection_credentials_env",
            "collection_credentials",
            &["environment"],
            true,
        ))
        .await?;
        seed(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in
            ["collection_credentials", "collection_grants", "collection_services", "collection_platforms"]
        {
            m.drop_table(Table::drop().table(c(t)).to_owned()).await?;
        }
        Ok(())
    }
}
