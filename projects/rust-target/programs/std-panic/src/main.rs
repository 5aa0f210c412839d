//! A std program whose slice index is out of bounds: std's panic hook prints
//! the thread, location and message on stderr, and with panic = "abort" the
//! process then aborts (SIGABRT, exit status 134 in a shell).
fn main() {
    let table = vec![1u32, 2, 3];
    let index = std::hint::black_box(7usize);
    println!("about to panic");
    println!("unreachable: {}", table[index]);
}
