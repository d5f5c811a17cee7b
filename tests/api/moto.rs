//! `moto` in server mode, started by the tests that need it (S3 for files, EC2 and friends for
//! AWS accounts).
//!
//! moto is started on port 0 and its port is read back from the line it prints once it
//! listens. Picking a free port first and handing it over raced with parallel tests: between
//! the probe's release and moto's bind another test could take the port, moto then exited with
//! "address in use", and its readiness ping was answered by someone else's server.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A running moto server; killed when dropped.
pub(crate) struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub(crate) endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` (moto's server, or a script that runs it) on 127.0.0.1 and a port of the
/// kernel's choosing, and returns once it listens. A missing moto or one that exits before
/// listening fails the test with what it printed.
pub(crate) async fn start(mut command: Command, missing: &str) -> Moto {
    let mut child = command
        .args(["-H", "127.0.0.1", "-p", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{missing}: {e}"));
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<String, String>>();
    // Werkzeug prints ` * Running on http://127.0.0.1:<port>` once the socket listens. The
    // thread then keeps draining stderr (moto logs every request there), so the pipe never
    // fills and blocks the server.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut printed = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.is_none() {
                continue;
            }
            match line.split("Running on ").nth(1) {
                Some(url) => {
                    let url = url.trim().trim_end_matches('/').to_string();
                    let _ = tx.take().expect("checked above").send(Ok(url));
                }
                None => printed.push_str(&format!("{line}\n")),
            }
        }
        if let Some(tx) = tx {
            let _ = tx.send(Err(printed));
        }
    });
    let endpoint = match tokio::time::timeout(Duration::from_secs(60), rx).await {
        Ok(Ok(Ok(url))) => url,
        Ok(Ok(Err(printed))) => {
            let status = child.wait();
            panic!("moto exited before listening ({status:?}); it printed:\n{printed}")
        }
        Ok(Err(_)) => panic!("moto's stderr reader stopped"),
        Err(_) => panic!("moto did not listen within 60 s"),
    };
    Moto { child, endpoint }
}
