//! Feature flags — UNFINISHED, not exposed: only the pure evaluation ([`evaluate`]) exists so
//! far. Storage (`feature_flags`), the admin CRUD, `Tenant.features` merging, `tenantEvents`
//! on change and the `require` gate are still to be built (issue 21).

pub mod evaluate;
