//! Errors of the controller library.

/// Store errors, worded for the person running the controller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error("cannot open the database: {0}")]
    Open(String),
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A unique name is already taken.
    #[error("{0}")]
    Conflict(String),
    /// The site does not exist.
    #[error("unknown site `{0}`; create it first with `commune site add {0} --name \"…\"`")]
    UnknownSite(String),
    /// No such agent.
    #[error("unknown agent `{0}`; `commune agent list` shows the enrolled ones")]
    UnknownAgent(String),
    /// The site exists already.
    #[error("site `{0}` already exists")]
    SiteExists(String),
}
