//! The `obera` binary refuses bad configuration and bad arguments with a clear
//! message and a non-zero exit, and its admin commands work on a fresh database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use obera_types::{AuditAction, compliance};
use std::process::{Command, Output};

fn obera(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obera"));
    // Only the variables the test names: the caller's OBERA_* settings must not leak in.
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir);
    cmd.args(args).current_dir(dir).env(
        "OBERA_DATABASE_URL",
        format!("sqlite://{}/t.db", dir.display()),
    );
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn temp() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("obera-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn production_mode_without_a_signing_key_refuses_to_start() {
    let dir = temp();
    let out = obera(
        &dir,
        &["serve"],
        &[("OBERA_MODE", "production"), ("OBERA_BIND", "127.0.0.1:0")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("OBERA_JWT_SIGNING_KEY is required"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.join("data").exists(),
        "a key was generated in production mode"
    );
}

#[test]
fn production_mode_without_a_master_key_refuses_to_start() {
    let dir = temp();
    let out = obera(
        &dir,
        &["serve"],
        &[
            ("OBERA_MODE", "production"),
            ("OBERA_BIND", "127.0.0.1:0"),
            (
                "OBERA_JWT_SIGNING_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("OBERA_MASTER_KEY is required"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.join("data").exists(),
        "a key was generated in production mode"
    );
}

#[test]
fn bad_settings_are_named_in_the_error() {
    let dir = temp();
    let out = obera(&dir, &["migrate"], &[("OBERA_SEED_DEMO", "sometimes")]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).to_lowercase().contains("seed_demo"),
        "{}",
        stderr(&out)
    );
    let out = obera(
        &dir,
        &["migrate"],
        &[("OBERA_DATABASE_URL", "mysql://localhost/obera")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("must start with sqlite: or postgres:"),
        "{}",
        stderr(&out)
    );
    let out = obera(
        &dir,
        &["serve"],
        &[
            ("OBERA_JWT_SIGNING_KEY", "not base64!"),
            ("OBERA_BIND", "127.0.0.1:0"),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("signing key"), "{}", stderr(&out));
    std::fs::write(dir.join("obera.toml"), "bind = 12\n").unwrap();
    let out = obera(&dir, &["migrate"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("bind"), "{}", stderr(&out));
}

#[test]
fn create_admin_validates_its_input_and_creates_an_operator() {
    let dir = temp();
    let out = obera(
        &dir,
        &["create-admin", "--email", "not-an-email"],
        &[("OBERA_ADMIN_PASSWORD", "long enough password")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a valid email"),
        "{}",
        stderr(&out)
    );
    let out = obera(
        &dir,
        &["create-admin", "--email", "ops@msp.example"],
        &[("OBERA_ADMIN_PASSWORD", "short")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("at least 10 characters"),
        "{}",
        stderr(&out)
    );
    let out = obera(
        &dir,
        &["create-admin", "--email", "ops@msp.example"],
        &[("OBERA_ADMIN_PASSWORD", "long enough password")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // Judged by the account itself, not by what the command printed.
    let login = runtime().block_on(async {
        let db = open(&dir).await;
        db.find_login(&"ops@msp.example".parse().unwrap())
            .await
            .unwrap()
    });
    let login = login.expect("create-admin made no account");
    assert!(login.platform_operator && login.customer_id.is_none());
    assert!(verifies(
        login.password_hash.as_deref(),
        "long enough password"
    ));
    assert!(!verifies(
        login.password_hash.as_deref(),
        "another password"
    ));
    let out = obera(&dir, &["bogus-command"], &[]);
    assert!(!out.status.success());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The store of the CLI's database in `dir`.
async fn open(dir: &std::path::Path) -> obera_store::Db {
    obera_store::Db::connect(&obera_store::DbOptions {
        url: format!("sqlite://{}/t.db", dir.display()),
        migrate_url: None,
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_secs(5),
    })
    .await
    .unwrap()
}

fn verifies(hash: Option<&str>, password: &str) -> bool {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};
    let Some(parsed) = hash.and_then(|h| PasswordHash::new(h).ok()) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[test]
fn reset_mfa_removes_an_accounts_second_factor() {
    let dir = temp();
    let pw = [("OBERA_ADMIN_PASSWORD", "long enough password")];
    assert!(
        obera(&dir, &["create-admin", "--email", "ops@msp.example"], &pw)
            .status
            .success()
    );
    let user = runtime().block_on(async {
        let db = open(&dir).await;
        let login = db
            .find_login(&"ops@msp.example".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let owner = obera_store::FactorOwner {
            user_id: login.user_id(),
            customer_id: None,
        };
        db.start_second_factor(owner.user_id, b"sealed")
            .await
            .unwrap();
        let event =
            obera_store::AuditEvent::new(AuditAction::AUTH_MFA_ENROLLED, compliance::CREDENTIALS);
        db.confirm_second_factor(owner, 1, &["hash".to_owned()], event)
            .await
            .unwrap();
        owner.user_id
    });
    let out = obera(&dir, &["reset-mfa", "--email", "OPS@msp.example"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    runtime().block_on(async {
        let db = open(&dir).await;
        assert_eq!(
            db.second_factor(user).await.unwrap(),
            None,
            "the factor is still there"
        );
        assert_eq!(db.recovery_codes_left(user).await.unwrap(), 0);
    });
    let out = obera(&dir, &["reset-mfa", "--email", "nobody@msp.example"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no account"), "{}", stderr(&out));
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn operators_are_listed_deactivated_and_reactivated() {
    let dir = temp();
    let pw = [("OBERA_ADMIN_PASSWORD", "long enough password")];
    let out = obera(&dir, &["create-admin", "--email", "ops@msp.example"], &pw);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = obera(&dir, &["operators", "list"], &[]);
    assert!(
        stdout(&out).contains("ops@msp.example  active"),
        "{}",
        stdout(&out)
    );
    let out = obera(
        &dir,
        &["operators", "deactivate", "--email", "ops@msp.example"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = obera(&dir, &["operators", "list"], &[]);
    assert!(
        stdout(&out).contains("ops@msp.example  deactivated"),
        "{}",
        stdout(&out)
    );
    let out = obera(
        &dir,
        &["operators", "reactivate", "--email", "ops@msp.example"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = obera(
        &dir,
        &["operators", "deactivate", "--email", "nobody@msp.example"],
        &[],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no operator account"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn seed_demo_refuses_production_mode_unless_insisted() {
    let dir = temp();
    let prod = [("OBERA_MODE", "production")];
    let out = obera(&dir, &["seed-demo"], &prod);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--i-know-this-is-production"),
        "{}",
        stderr(&out)
    );
    let out = obera(&dir, &["operators", "list"], &prod);
    assert!(
        !stdout(&out).contains("operator@obera.local"),
        "demo data was loaded"
    );
    let out = obera(&dir, &["seed-demo", "--i-know-this-is-production"], &prod);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn create_admin_refuses_an_email_of_a_customers_person() {
    let dir = temp();
    let out = obera(&dir, &["seed-demo"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = obera(
        &dir,
        &[
            "create-admin",
            "--email",
            "admin@northwind.demo.obera.local",
        ],
        &[("OBERA_ADMIN_PASSWORD", "long enough password")],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("belongs to a customer"),
        "{}",
        stderr(&out)
    );
}
