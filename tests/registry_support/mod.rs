//! Test support for the Schema Registry tests: certificates made with
//! openssl at test time, the small registry of tests/py/registry started as
//! a child process (HTTP or HTTPS, optional client certificates, basic auth
//! or a bearer token, or a broken mode), and the Python clients
//! (confluent-kafka serializers) run through `KAFKATERM_PYTHON`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The Python interpreter with confluent-kafka (scripts/test.sh sets it).
pub fn python() -> String {
    std::env::var("KAFKATERM_PYTHON").expect(
        "KAFKATERM_PYTHON is not set: run the suite with scripts/test.sh, which creates the test Python environment (tests/py/requirements.txt)",
    )
}

pub fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/registry")
}

pub fn schema_file(name: &str) -> String {
    std::fs::read_to_string(py_dir().join("schemas").join(name)).unwrap()
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1/localhost signed by it, a
/// second CA, and client certificates signed by each.
pub struct Certs {
    pub dir: tempfile::TempDir,
}

impl Certs {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let c = Self { dir };
        c.ca("ca");
        c.ca("other-ca");
        c.leaf("server", "ca", "serverAuth", "localhost");
        c.leaf("client", "ca", "clientAuth", "kafkaterm-client");
        c.leaf("rogue-client", "other-ca", "clientAuth", "rogue");
        c
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn ca(&self, name: &str) {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=kafkaterm test {name}"),
            "-keyout",
            &self.path(&format!("{name}.key")),
            "-out",
            &self.path(&format!("{name}.pem")),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }

    fn leaf(&self, name: &str, ca: &str, usage: &str, cn: &str) {
        let key = self.path(&format!("{name}.key"));
        let csr = self.path(&format!("{name}.csr"));
        openssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            &key,
            "-out",
            &csr,
        ]);
        let ext = self.path(&format!("{name}.ext"));
        std::fs::write(
            &ext,
            format!(
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n"
            ),
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &self.path(&format!("{ca}.pem")),
            "-CAkey",
            &self.path(&format!("{ca}.key")),
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            &self.path(&format!("{name}.pem")),
            "-extfile",
            &ext,
        ]);
    }
}

/// How the test registry is started.
#[derive(Default, Clone)]
pub struct RegistryOpts {
    pub tls: bool,
    pub client_certs: bool,
    pub basic: Option<&'static str>,
    pub token: Option<&'static str>,
    /// normal, html, garbage or hang
    pub mode: Option<&'static str>,
}

/// The registry of tests/py/registry/registry_server.py, running until dropped.
pub struct Registry {
    child: Child,
    pub url: String,
}

impl Registry {
    pub fn start(certs: &Certs, o: &RegistryOpts) -> Self {
        let mut c = Command::new(python());
        c.arg(py_dir().join("registry_server.py"));
        if o.tls {
            c.args(["--cert", &certs.path("server.pem")]);
            c.args(["--key", &certs.path("server.key")]);
        }
        if o.client_certs {
            c.args(["--client-ca", &certs.path("ca.pem")]);
        }
        if let Some(b) = o.basic {
            c.args(["--basic", b]);
        }
        if let Some(t) = o.token {
            c.args(["--token", t]);
        }
        if let Some(m) = o.mode {
            c.args(["--mode", m]);
        }
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run the test registry with KAFKATERM_PYTHON");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("the test registry did not start: {line:?}"))
            .parse()
            .unwrap();
        let scheme = if o.tls { "https" } else { "http" };
        Self {
            child,
            url: format!("{scheme}://127.0.0.1:{port}"),
        }
    }

    /// Register the fixture schemas (through the Python client); returns
    /// subject → id.
    pub fn setup(&self, certs: &Certs, basic: Option<&str>) -> serde_json::Value {
        let mut args = vec![
            "setup".to_string(),
            "--registry".into(),
            self.url.clone(),
            "--ca".into(),
            certs.path("ca.pem"),
        ];
        if let Some(b) = basic {
            args.push("--basic".into());
            args.push(b.into());
        }
        let out = py_clients(&args, None);
        serde_json::from_str(out.trim()).unwrap()
    }

    /// Register any schema body (the test registry checks nothing); returns its id.
    pub fn register(
        &self,
        certs: &Certs,
        basic: Option<&str>,
        subject: &str,
        body: &serde_json::Value,
    ) -> u64 {
        let code = "import base64,json,ssl,sys,urllib.request\nurl,ca,basic,subject,body=sys.argv[1:6]\nctx=ssl.create_default_context(cafile=ca) if url.startswith('https') else None\nreq=urllib.request.Request(url+'/subjects/'+subject+'/versions',data=body.encode(),method='POST')\nif basic: req.add_header('Authorization','Basic '+base64.b64encode(basic.encode()).decode())\nprint(json.loads(urllib.request.urlopen(req,context=ctx).read())['id'])";
        let o = Command::new(python())
            .args([
                "-c",
                code,
                &self.url,
                &certs.path("ca.pem"),
                basic.unwrap_or(""),
                subject,
                &body.to_string(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
    }

    /// How often each `METHOD /path` was asked for.
    pub fn stats(&self, certs: &Certs) -> serde_json::Value {
        let code = "import json,ssl,sys,urllib.request\nctx=ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[1].startswith('https') else None\nprint(urllib.request.urlopen(sys.argv[1]+'/_stats',context=ctx).read().decode())";
        let o = Command::new(python())
            .args(["-c", code, &self.url, &certs.path("ca.pem")])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run tests/py/registry/clients.py; panics with its output on failure.
pub fn py_clients(args: &[String], stdin: Option<&str>) -> String {
    let out = py_clients_output(args, stdin);
    assert!(
        out.status.success(),
        "clients.py {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn py_clients_output(args: &[String], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg(py_dir().join("clients.py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}
