//! Starting and stopping a real server for a test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    pub child: Child,
    pub data: PathBuf,
    pub grpc: u16,
    pub http: u16,
    pub api: u16,
    env: Vec<(String, String)>,
    /// `serve` or `demo`, then extra arguments.
    args: Vec<String>,
    /// A command the binary runs under (for example `prlimit --nofile=256:1024`).
    launcher: Vec<String>,
}

impl Server {
    /// Starts `redscope serve` on fresh ports over `data`, with extra environment.
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_with(data, env, &["serve"])
    }

    /// Starts `redscope demo` with extra arguments (rate, backfill, faults).
    pub fn start_demo(data: &Path, args: &[&str]) -> Server {
        let mut all = vec!["demo"];
        all.extend_from_slice(args);
        Server::start_with(data, &[], &all)
    }

    /// Starts `redscope serve` under `launcher` (a command that then runs the binary).
    pub fn start_under(data: &Path, env: &[(&str, &str)], launcher: &[&str]) -> Server {
        Server::start_full(data, env, &["serve"], launcher)
    }

    fn start_with(data: &Path, env: &[(&str, &str)], args: &[&str]) -> Server {
        Server::start_full(data, env, args, &[])
    }

    fn start_full(data: &Path, env: &[(&str, &str)], args: &[&str], launcher: &[&str]) -> Server {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut s = Server {
            child: spawn_placeholder(),
            data: data.to_path_buf(),
            grpc: free_port(),
            http: free_port(),
            api: free_port(),
            env,
            args: args.iter().map(|a| a.to_string()).collect(),
            launcher: launcher.iter().map(|a| a.to_string()).collect(),
        };
        s.child = s.spawn();
        s.wait_ready();
        s
    }

    fn spawn(&self) -> Child {
        let bin = env!("CARGO_BIN_EXE_redscope");
        let mut cmd = match self.launcher.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.args(&self.args)
            .arg("--data")
            .arg(&self.data)
            .arg("--otlp-grpc")
            .arg(format!("127.0.0.1:{}", self.grpc))
            .arg("--otlp-http")
            .arg(format!("127.0.0.1:{}", self.http))
            .arg("--api")
            .arg(format!("127.0.0.1:{}", self.api))
            .env("REDSCOPE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ok = std::net::TcpStream::connect(("127.0.0.1", self.api)).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", self.http)).is_ok();
            if ok {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not start");
    }

    /// SIGKILL, then start again on the same ports and data.
    pub fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = self.spawn();
        self.wait_ready();
    }

    pub fn api_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.api)
    }

    pub fn otlp_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http)
    }

    /// Posts an OTLP/JSON request to the HTTP receiver and checks that it was accepted.
    pub async fn post_otlp_json(&self, path: &str, body: &serde_json::Value) {
        let r = reqwest::Client::new()
            .post(self.otlp_url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "POST {path}");
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = reqwest::get(self.api_url(path)).await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn sql(&self, query: &str) -> serde_json::Value {
        let r = reqwest::Client::new()
            .post(self.api_url("/api/v1/sql"))
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(status.is_success(), "sql {query}: {status} {body}");
        body
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_placeholder() -> Child {
    Command::new("true").spawn().unwrap()
}

pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
