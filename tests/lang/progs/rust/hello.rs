// hello: prints "hello" and a newline. Expected verdict: OK.
// Build: rustc -O -o hello hello.rs
fn main() {
    println!("hello");
}
