//! Conformance corpus for Rust's std on m68k Linux: `format!`, `Vec`,
//! `String`, `HashMap`, `BTreeMap`, threads with `Arc<Mutex>` and atomics,
//! `mpsc` channels, files, `env::args`, float arithmetic and formatting,
//! and `process::exit`. Ordinary Rust; the output must equal the same program's
//! output on the build host.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

fn words() -> HashMap<String, usize> {
    let text = "the quick brown fox jumps over the lazy dog the fox";
    let mut counts = HashMap::new();
    for w in text.split_whitespace() {
        *counts.entry(w.to_string()).or_insert(0) += 1;
    }
    counts
}

fn main() {
    // Strings and collections.
    let greeting = format!("{}-{:>5}-{:<5}|{:^7}|{:08.3}", "m68k", 40, 30, "next", std::f64::consts::PI);
    println!("{greeting}");
    let mut v: Vec<i64> = (0..40).map(|i| (i * 7919 % 101) - 50).collect();
    v.sort();
    v.dedup();
    println!("vec {} first {:?} last {:?} sum {}", v.len(), &v[..4], &v[v.len() - 3..], v.iter().sum::<i64>());
    let counts = words();
    let mut sorted: Vec<(&String, &usize)> = counts.iter().collect();
    sorted.sort();
    println!("hashmap {:?}", sorted);
    let tree: BTreeMap<u32, String> = (1..=6).map(|i| (i * i, format!("sq{i}"))).collect();
    println!("btreemap {:?}", tree);
    println!("range {:?}", tree.range(4..20).map(|(k, _)| *k).collect::<Vec<_>>());
    let set: HashSet<char> = "mississippi".chars().collect();
    let mut letters: Vec<char> = set.into_iter().collect();
    letters.sort_unstable();
    println!("letters {}", letters.iter().collect::<String>());

    // Threads: a Mutex counter, an atomic, and joined return values.
    let shared = Arc::new(Mutex::new(0u64));
    let hits = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = (0..4u64)
        .map(|id| {
            let shared = Arc::clone(&shared);
            let hits = Arc::clone(&hits);
            thread::spawn(move || {
                for i in 0..5_000u64 {
                    *shared.lock().unwrap() += i % 7;
                    hits.fetch_add(1, Ordering::SeqCst);
                }
                id * 10
            })
        })
        .collect();
    let returned: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("threads mutex={} atomic={} returned={:?}", *shared.lock().unwrap(), hits.load(Ordering::SeqCst), returned);

    // Channels.
    let (tx, rx) = mpsc::channel();
    for id in 0..3u32 {
        let tx = tx.clone();
        thread::spawn(move || {
            for k in 0..4u32 {
                tx.send(id * 100 + k).unwrap();
            }
        });
    }
    drop(tx);
    let mut got: Vec<u32> = rx.iter().collect();
    got.sort();
    println!("mpsc {} {:?}", got.len(), got);

    // Files.
    let path = std::env::temp_dir().join(format!("nextrust-std-conformance-{}.txt", std::process::id()));
    {
        let mut f = fs::File::create(&path).expect("create");
        for i in 0..5 {
            writeln!(f, "line {i}: {}", i * i).expect("write");
        }
    }
    let lines: Vec<String> = BufReader::new(fs::File::open(&path).expect("open")).lines().map(|l| l.unwrap()).collect();
    let size = fs::metadata(&path).expect("metadata").len();
    fs::remove_file(&path).expect("remove");
    println!("file {} lines, {} bytes, last {:?}, removed {}", lines.len(), size, lines.last(), !path.exists());

    // Arguments (the program name is not printed: it differs between machines).
    let args: Vec<String> = std::env::args().collect();
    println!("args {}", args.len());

    // Float arithmetic (soft-float in LLVM's M68k backend) and formatting; libm's
    // sin/exp/... are std-libm's subject.
    for x in [0.5f64, 1.0, 2.0, 10.0] {
        println!("x={x} sqrt={:.12} cube={:.6e} inv={:?} floor={} powi={}", x.sqrt(), x * x * x, 1.0 / x, (x * 2.7).floor(), x.powi(3));
    }
    println!("f32 {:?} {} {:.3}", 0.1f32 + 0.2f32, 1e21f64, 2.0f64 / 3.0);

    std::process::exit(if got.len() == 12 { 0 } else { 1 });
}
