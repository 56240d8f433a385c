//! Tells utoipa what the domain's type aliases stand for, so that the
//! OpenAPI document shows a `MemberId` as a string, not as a reference to a
//! schema named `String`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    utoipa_config::Config::new()
        .alias_for("MemberId", "String")
        .alias_for("GroupId", "String")
        .alias_for("Millis", "i64")
        .write_to_file();
}
