//! Staff acting outside their role: mediators, disabled accounts, revoked and expired API tokens.
