//! Configuration errors reach the admin as one clear message and exit code 2.

mod support;

use predicates::str::contains;

fn gomtin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("gomtin").expect("binary");
    c.env_remove("GOMTIN_CONFIG");
    c
}

#[test]
fn missing_file() {
    gomtin()
        .args(["--config", "/nonexistent/gomtin.toml", "sources", "list"])
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/gomtin.toml"))
        .stderr(contains("không đọc được tệp cấu hình"));
}

#[test]
fn unknown_key_names_key_and_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("gomtin.toml");
    std::fs::write(
        &p,
        "[storage]\ndata_dir = \"d\"\n\n[fetch]\nalow_private_networks = true\n",
    )
    .expect("write");
    gomtin()
        .arg("--config")
        .arg(&p)
        .args(["fetch"])
        .assert()
        .code(2)
        .stderr(contains("alow_private_networks"))
        .stderr(contains("dòng 5"));
}

#[test]
fn duplicate_source_id() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("gomtin.toml");
    let src = support::feed_source("trung", "https://a.example.vn/rss");
    std::fs::write(&p, format!("{src}{src}")).expect("write");
    gomtin()
        .arg("--config")
        .arg(&p)
        .args(["sources", "list"])
        .assert()
        .code(2)
        .stderr(contains("`trung` bị trùng"));
}

#[test]
fn config_from_env_and_usage_errors() {
    gomtin()
        .env("GOMTIN_CONFIG", "/nowhere/x.toml")
        .args(["sources", "list"])
        .assert()
        .code(2)
        .stderr(contains("/nowhere/x.toml"));
    gomtin().args(["frobnicate"]).assert().code(2);
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("gomtin.toml");
    std::fs::write(&p, "").expect("write");
    gomtin()
        .arg("--config")
        .arg(&p)
        .args(["fetch", "khong-co"])
        .assert()
        .code(2)
        .stderr(contains("khong-co"));
}
