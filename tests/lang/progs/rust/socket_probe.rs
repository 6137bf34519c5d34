// socket_probe PORT: TCP connect to 127.0.0.1:PORT. Prints "connected" and
// exits 0 on success; otherwise prints the error and exits 3 (2 for a usage
// error). Inside the sandbox a connect must never succeed.
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::exit;
use std::time::Duration;

fn main() {
    let port: u16 = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(p)) => p,
        _ => {
            eprintln!("usage: socket_probe PORT");
            exit(2);
        }
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
        Ok(_) => println!("connected"),
        Err(e) => {
            println!("connect: {}", e);
            exit(3);
        }
    }
}
