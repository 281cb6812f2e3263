//! Staff accounts through the staff API: create, disable and enable them, change passwords,
//! API tokens (which expire) and browser sessions. Admins only, except changing one's own
//! password. Every change takes effect at the next request: sessions and tokens are looked
//! up, with their account, on every request.

use std::time::Duration;

use super::api::StaffApi;
use super::{hash_password, random_token, token_hash};
use super::{Credential, Refusal, Right, Role, StaffError};
use crate::now;
use crate::store::{ApiTokenRecord, ApiTokenScope, StaffRecord};

/// How long an API token lasts when no expiry is given.
pub const API_TOKEN_DEFAULT_TTL: Duration = Duration::from_secs(90 * 86_400);
/// The longest an API token may last.
pub const API_TOKEN_MAX_TTL: Duration = Duration::from_secs(366 * 86_400);
/// The most sites an API token may be narrowed to.
pub const MAX_TOKEN_SITES: usize = 100;
/// The shortest password, in characters (ANSSI's minimum for a password alone with rate
/// limiting).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password, in characters (Argon2 works on all of it).
const MAX_PASSWORD_CHARS: usize = 256;

/// An account as the accounts page and `commune user list` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountView {
    /// Login.
    pub login: String,
    /// Name shown.
    pub display_name: String,
    /// Role, as stored.
    pub role: String,
    /// Sites (empty: every site).
    pub sites: Vec<String>,
    /// Disabled accounts cannot log in; their sessions and tokens are refused.
    pub disabled: bool,
    /// Browser sessions live now.
    pub live_sessions: u64,
    /// API tokens, valid or not.
    pub api_tokens: Vec<ApiTokenRecord>,
}

fn check_password(password: &str) -> Result<(), StaffError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(StaffError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(StaffError::Invalid(format!(
            "a password has at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

impl StaffApi<'_> {
    async fn record_of(&self, login: &str) -> Result<StaffRecord, StaffError> {
        self.c
            .store()
            .staff(login)
            .await?
            .ok_or_else(|| StaffError::NotFound(format!("no staff account `{login}`")))
    }

    /// Every account.
    pub async fn accounts(&self) -> Result<Vec<AccountView>, StaffError> {
        self.allow("user.list", Right::ManageAccounts, None).await?;
        let mut out = Vec::new();
        for login in self.c.store().staff_logins().await? {
            out.push(self.view(&login).await?);
        }
        Ok(out)
    }

    /// One account.
    pub async fn account(&self, login: &str) -> Result<AccountView, StaffError> {
        self.allow("user.view", Right::ManageAccounts, None).await?;
        self.view(login).await
    }

    async fn view(&self, login: &str) -> Result<AccountView, StaffError> {
        let record = self.record_of(login).await?;
        let store = self.c.store();
        Ok(AccountView {
            live_sessions: store.live_staff_sessions(login, now()).await?,
            api_tokens: store.api_tokens_of(login).await?,
            login: record.login,
            display_name: record.display_name,
            role: record.role,
            sites: record.sites,
            disabled: record.disabled,
        })
    }

    /// Creates an account. Logins are 1 to 64 letters, digits or `. - _ @`; passwords at
    /// least [`MIN_PASSWORD_CHARS`]; `staff` and `mediator` need at least one site.
    pub async fn create_account(
        &self,
        login: &str,
        display_name: &str,
        role: Role,
        sites: &[String],
        password: &str,
    ) -> Result<(), StaffError> {
        self.allow("user.create", Right::ManageAccounts, None)
            .await?;
        let valid_login = !login.is_empty()
            && login.len() <= 64
            && login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
        if !valid_login || login == "cli" {
            return Err(StaffError::Invalid(
                "a login is 1 to 64 letters, digits or . - _ @ (and not `cli`)".into(),
            ));
        }
        if display_name.trim().is_empty() || display_name.chars().count() > 100 {
            return Err(StaffError::Invalid(
                "a name shown is 1 to 100 characters".into(),
            ));
        }
        check_password(password)?;
        if !role.all_sites() && sites.is_empty() {
            return Err(StaffError::Invalid(format!(
                "a {} account needs at least one site (--site)",
                role.as_str()
            )));
        }
        let password_hash = hash_password(self.c, password).await?;
        self.c
            .store()
            .create_staff(
                &StaffRecord {
                    login: login.to_string(),
                    display_name: display_name.to_string(),
                    role: role.as_str().to_string(),
                    password_hash,
                    sites: if role.all_sites() {
                        Vec::new()
                    } else {
                        sites.to_vec()
                    },
                    disabled: false,
                },
                now(),
            )
            .await?;
        self.done(
            "user.create",
            None,
            format!("{login} ({}) {}", role.as_str(), sites.join(",")).trim_end(),
        )
        .await;
        Ok(())
    }

    /// Disables an account: it cannot log in, and its browser sessions and API tokens are
    /// refused from the next request (its live streams within seconds). An admin cannot
    /// disable their own account.
    pub async fn disable_account(&self, login: &str) -> Result<(), StaffError> {
        self.allow("user.disable", Right::ManageAccounts, None)
            .await?;
        if login == self.who.login {
            return Err(self.refuse("user.disable", None, Refusal::OwnAccount).await);
        }
        if !self
            .c
            .store()
            .set_staff_disabled(login, Some(now()))
            .await?
        {
            return Err(StaffError::NotFound(format!("no staff account `{login}`")));
        }
        self.done("user.disable", None, login).await;
        Ok(())
    }

    /// Enables a disabled account again (its former sessions stay ended; its tokens that
    /// are neither revoked nor expired work again).
    pub async fn enable_account(&self, login: &str) -> Result<(), StaffError> {
        self.allow("user.enable", Right::ManageAccounts, None)
            .await?;
        if !self.c.store().set_staff_disabled(login, None).await? {
            return Err(StaffError::NotFound(format!("no staff account `{login}`")));
        }
        self.done("user.enable", None, login).await;
        Ok(())
    }

    /// Sets another account's password (an admin's reset): every browser session of the
    /// account ends. API tokens are separate credentials and stay.
    pub async fn set_password(&self, login: &str, password: &str) -> Result<(), StaffError> {
        self.allow("user.password", Right::ManageAccounts, None)
            .await?;
        check_password(password)?;
        self.record_of(login).await?;
        let hash = hash_password(self.c, password).await?;
        let keep = match &self.who.credential {
            Credential::Session(current) if login == self.who.login => Some(current.as_str()),
            _ => None,
        };
        self.c
            .store()
            .set_staff_password(login, &hash, keep)
            .await?;
        self.done("user.password", None, login).await;
        Ok(())
    }

    /// Changes the person's own password, given the current one: their other browser
    /// sessions end, this one stays.
    pub async fn change_own_password(&self, current: &str, new: &str) -> Result<(), StaffError> {
        let login = self.who.login.as_str();
        let Ok(record) = self.record_of(login).await else {
            // The command line is not an account.
            return Err(self
                .refuse("user.own_password", None, Refusal::NotYourRole)
                .await);
        };
        let matches = self
            .c
            .password_matches(current, &record.password_hash)
            .await
            .map_err(|_| {
                StaffError::Invalid("the service is very busy: try again in a moment".into())
            })?;
        if !matches {
            return Err(self
                .refuse("user.own_password", None, Refusal::WrongPassword)
                .await);
        }
        check_password(new)?;
        let hash = hash_password(self.c, new).await?;
        let keep = match &self.who.credential {
            Credential::Session(current) => Some(current.as_str()),
            _ => None,
        };
        self.c
            .store()
            .set_staff_password(login, &hash, keep)
            .await?;
        self.done("user.own_password", None, login).await;
        Ok(())
    }

    /// Ends every browser session of an account now; how many were live.
    pub async fn end_sessions(&self, login: &str) -> Result<u64, StaffError> {
        self.allow("user.end_sessions", Right::ManageAccounts, None)
            .await?;
        self.record_of(login).await?;
        let n = self.c.store().end_staff_sessions(login, now()).await?;
        self.done(
            "user.end_sessions",
            None,
            &format!("{login}: {n} session(s)"),
        )
        .await;
        Ok(n)
    }

    /// Creates an API token for an account's scripts, valid `ttl` (at most
    /// [`API_TOKEN_MAX_TTL`]); the token, shown once (only its hash is kept). A name is
    /// given once among the account's tokens still valid, so that revoking by name is
    /// unambiguous.
    pub async fn create_api_token(
        &self,
        login: &str,
        name: &str,
        ttl: Duration,
    ) -> Result<String, StaffError> {
        self.create_scoped_api_token(login, name, ttl, None, &[])
            .await
    }

    /// [`Self::create_api_token`], narrowed to `role` (no higher than the account's) and to
    /// `sites` (some of the account's; empty: the account's). The identity the token yields
    /// has the narrower role and sites, so every check of the staff API applies to them.
    pub async fn create_scoped_api_token(
        &self,
        login: &str,
        name: &str,
        ttl: Duration,
        role: Option<Role>,
        sites: &[String],
    ) -> Result<String, StaffError> {
        self.allow("api_token.create", Right::ManageAccounts, None)
            .await?;
        let record = self.record_of(login).await?;
        let scope = self.token_scope(&record, role, sites).await?;
        if record.disabled {
            return Err(StaffError::Invalid(format!(
                "the account `{login}` is disabled; `commune user enable` first"
            )));
        }
        if name.trim().is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control)
        {
            return Err(StaffError::Invalid(
                "a token's name is 1 to 64 characters".into(),
            ));
        }
        if ttl.is_zero() || ttl > API_TOKEN_MAX_TTL {
            return Err(StaffError::Invalid(format!(
                "a token lasts at most {} days",
                API_TOKEN_MAX_TTL.as_secs() / 86_400
            )));
        }
        let at = now();
        let valid = |t: &ApiTokenRecord| {
            t.name == name && t.revoked_at.is_none() && t.expires_at.is_some_and(|e| e > at)
        };
        if self.c.store().api_tokens_of(login).await?.iter().any(valid) {
            return Err(StaffError::Invalid(format!(
                "`{login}` already has a valid token named `{name}`; revoke it first or pick \
                 another name"
            )));
        }
        let token = format!("cmn-api-{}", random_token());
        let expires_at = at.plus_secs(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 1000));
        self.c
            .store()
            .create_scoped_api_token(&token_hash(&token), name, login, at, expires_at, &scope)
            .await?;
        self.done(
            "api_token.create",
            None,
            &format!(
                "{name} for {login} until {expires_at}{}",
                scope_text(&scope)
            ),
        )
        .await;
        Ok(token)
    }

    /// The scope of a new token of `record`, checked against the account.
    async fn token_scope(
        &self,
        record: &StaffRecord,
        role: Option<Role>,
        sites: &[String],
    ) -> Result<ApiTokenScope, StaffError> {
        let login = &record.login;
        let account_role = Role::parse(&record.role).ok_or_else(|| {
            StaffError::Invalid(format!("the account `{login}` has an unknown role"))
        })?;
        if let Some(role) = role {
            if !account_role.covers(role) {
                return Err(StaffError::Invalid(format!(
                    "`{login}` is a {} account: its tokens are {} at most, not {}",
                    account_role.as_str(),
                    account_role.as_str(),
                    role.as_str()
                )));
            }
        }
        let effective = role.unwrap_or(account_role);
        let mut chosen: Vec<String> = Vec::new();
        for site in sites {
            if !chosen.contains(site) {
                chosen.push(site.clone());
            }
        }
        if chosen.len() > MAX_TOKEN_SITES {
            return Err(StaffError::Invalid(format!(
                "a token names {MAX_TOKEN_SITES} sites at most"
            )));
        }
        if !chosen.is_empty() {
            let known: Vec<String> = self
                .c
                .store()
                .sites()
                .await?
                .into_iter()
                .map(|s| s.id)
                .collect();
            for site in &chosen {
                if !known.contains(site) {
                    return Err(StaffError::Invalid(format!(
                        "unknown site `{site}` (`commune site list` shows them)"
                    )));
                }
                if !account_role.all_sites() && !record.sites.contains(site) {
                    return Err(StaffError::Invalid(format!(
                        "`{login}` does not act on site `{site}`: its sites are {}",
                        record.sites.join(", ")
                    )));
                }
            }
        } else if account_role.all_sites() && !effective.all_sites() {
            return Err(StaffError::Invalid(format!(
                "`{login}` acts on every site: a {} token names its sites (--site)",
                effective.as_str()
            )));
        }
        Ok(ApiTokenScope {
            role: role.map(|r| r.as_str().to_string()),
            sites: (!chosen.is_empty()).then_some(chosen),
        })
    }

    /// An account's API tokens, valid or not.
    pub async fn api_tokens(&self, login: &str) -> Result<Vec<ApiTokenRecord>, StaffError> {
        self.allow("api_token.list", Right::ManageAccounts, None)
            .await?;
        self.record_of(login).await?;
        Ok(self.c.store().api_tokens_of(login).await?)
    }

    /// Revokes an account's tokens named `name`: refused from the next request.
    pub async fn revoke_api_token(&self, login: &str, name: &str) -> Result<u64, StaffError> {
        self.allow("api_token.revoke", Right::ManageAccounts, None)
            .await?;
        let n = self.c.store().revoke_api_tokens(login, name, now()).await?;
        if n == 0 {
            return Err(StaffError::NotFound(format!(
                "`{login}` has no token named `{name}` that is not revoked already \
                 (`commune user tokens --login {login}` lists them)"
            )));
        }
        self.done("api_token.revoke", None, &format!("{name} of {login}"))
            .await;
        Ok(n)
    }
}

/// A token's scope for the audit log: empty when it has the account's rights.
fn scope_text(scope: &ApiTokenScope) -> String {
    let mut text = String::new();
    if let Some(role) = &scope.role {
        text.push_str(&format!(", role {role}"));
    }
    if let Some(sites) = &scope.sites {
        text.push_str(&format!(", sites {}", sites.join(",")));
    }
    text
}
