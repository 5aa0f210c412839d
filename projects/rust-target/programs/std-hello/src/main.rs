//! Hello world with Rust's std, as a new user writes it.
fn main() {
    println!("Hello from Rust's std on the Motorola 68k!");
}
