// The migrations are embedded with `embed_migrations!`; rebuild when a migration folder is added.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
