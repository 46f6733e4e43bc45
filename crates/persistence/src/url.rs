//! `DATABASE_URL`: the backend is chosen from the scheme, explicitly. Nothing is guessed: SQLite
//! would happily open any string as a file name, so an unknown scheme is an error.

use std::fmt;

/// Where the database lives. The api's config defaults to `sqlite://campus.db`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A libpq URL (`postgres://user:pass@host:port/db?options`), kept as given.
    Postgres(String),
    /// A SQLite file path, relative to the working directory or absolute.
    Sqlite(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("database URL {0:?} has no scheme; expected postgres://..., postgresql://... or sqlite://PATH")]
    NoScheme(String),
    #[error("database URL scheme {0:?} is not supported; expected postgres://..., postgresql://... or sqlite://PATH")]
    UnknownScheme(String),
    #[error("database URL sqlite:// needs a file path, e.g. sqlite://campus.db or sqlite:///var/lib/campus/campus.db")]
    EmptySqlitePath,
    #[error("database URL sqlite://:memory: is not supported: each pooled connection would see its own empty database")]
    SqliteMemory,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once("://") else {
            // `sqlite:foo.db` or `postgres:` without slashes: name the scheme the user wrote.
            return Err(match raw.split_once(':') {
                Some((scheme, _)) if !scheme.is_empty() && !scheme.contains('/') => {
                    UrlError::UnknownScheme(format!("{scheme}:"))
                }
                _ => UrlError::NoScheme(redact(raw)),
            });
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres(raw.to_string())),
            "sqlite" => {
                if rest.is_empty() {
                    Err(UrlError::EmptySqlitePath)
                } else if rest == ":memory:" {
                    Err(UrlError::SqliteMemory)
                } else {
                    Ok(Self::Sqlite(rest.to_string()))
                }
            }
            _ => Err(UrlError::UnknownScheme(format!("{scheme}://"))),
        }
    }

    /// `host:port` of a PostgreSQL URL (defaults `localhost` and 5432), for error messages.
    pub fn postgres_target(&self) -> Option<String> {
        let Self::Postgres(url) = self else {
            return None;
        };
        let after_scheme = url.split_once("://").map_or("", |(_, r)| r);
        let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6.split_once(']').unwrap_or((v6, ""));
            (h, p.trim_start_matches(':'))
        } else {
            hostport.rsplit_once(':').unwrap_or((hostport, ""))
        };
        let host = if host.is_empty() { "localhost" } else { host };
        let port = if port.is_empty() { "5432" } else { port };
        Some(format!("{host}:{port}"))
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Hides the password of a URL (`postgres://ann:***@host/db`, `?password=***`).
fn redact(url: &str) -> String {
    let base = redact_userinfo(url);
    match base.split_once('?') {
        Some((head, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{head}?{}", params.join("&"))
        }
        None => base,
    }
}

fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => url.to_string(),
    }
}

/// Shows the URL with its password hidden: safe for logs.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => f.write_str(&redact(url)),
            Self::Sqlite(path) => write!(f, "sqlite://{path}"),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn postgres_schemes_choose_postgres() {
        for url in [
            "postgres://127.0.0.1:5432/test",
            "postgresql://u:p@db/campus?sslmode=disable",
        ] {
            assert_eq!(
                DatabaseUrl::parse(url).unwrap(),
                DatabaseUrl::Postgres(url.into())
            );
        }
    }

    #[test]
    fn sqlite_scheme_takes_relative_and_absolute_paths() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://campus.db").unwrap(),
            DatabaseUrl::Sqlite("campus.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/c.db").unwrap(),
            DatabaseUrl::Sqlite("data/c.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/c.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/c.db".into())
        );
    }

    #[test]
    fn unknown_or_missing_schemes_are_refused_naming_the_scheme_and_the_accepted_ones() {
        let e = DatabaseUrl::parse("mysql://localhost/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"mysql://\""), "{e}");
        assert!(
            e.contains("postgres://") && e.contains("sqlite://PATH"),
            "{e}"
        );
        let e = DatabaseUrl::parse("campus.db").unwrap_err().to_string();
        assert!(e.contains("no scheme"), "{e}");
        let e = DatabaseUrl::parse("sqlite:campus.db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"sqlite:\""), "{e}");
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("sqlite://:memory:").is_err());
        assert!(!e.contains('\n'));
    }

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://ann:s3cret@db:5433/campus").unwrap();
        assert_eq!(url.to_string(), "postgres://ann:***@db:5433/campus");
        assert!(!format!("{url:?}").contains("s3cret"));
        let url =
            DatabaseUrl::parse("postgres://db/campus?user=ann&password=s3cret&sslmode=require")
                .unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://db/campus?user=ann&password=***&sslmode=require"
        );
    }

    #[test]
    fn postgres_target_names_host_and_port() {
        let t = |u: &str| DatabaseUrl::parse(u).unwrap().postgres_target().unwrap();
        assert_eq!(
            t("postgres://ann:pw@db.example:5433/campus"),
            "db.example:5433"
        );
        assert_eq!(t("postgres://127.0.0.1/test"), "127.0.0.1:5432");
        assert_eq!(t("postgresql:///test"), "localhost:5432");
    }
}
