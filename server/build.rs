//! Rebuilds the server when a migration is added or changed: `sqlx::migrate!`
//! embeds both migration directories at compile time, and cargo does not
//! know to look at them otherwise (sqlx's documented recipe).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations-pg");
}
