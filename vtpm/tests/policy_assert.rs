//! Policy assertions through tpm2-tools against `vtpm run`: PolicySigned with a key
//! loaded by tpm2_loadexternal and signed by openssl, PolicyTicket, PolicySecret
//! with an expiration, PolicyNV, PolicyCounterTimer, PolicyAuthorizeNV and
//! PolicyTemplate. Each trial digest is checked against a value computed here, a
//! real session reaching it authorizes an object created with that policy, and
//! a failing assertion is refused.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use common::*;

fn cc(c: u32) -> [u8; 4] {
    c.to_be_bytes()
}

const CC_POLICY_SIGNED: u32 = 0x160;
const CC_POLICY_SECRET: u32 = 0x151;
const CC_POLICY_NV: u32 = 0x149;
const CC_POLICY_COUNTER_TIMER: u32 = 0x16D;
const CC_POLICY_AUTHORIZE_NV: u32 = 0x192;
const CC_POLICY_TEMPLATE: u32 = 0x190;
const CC_POLICY_COMMAND_CODE: u32 = 0x16C;
const CC_UNSEAL: u32 = 0x15E;

struct Env {
    td: TestDir,
    server: Server,
}

impl Env {
    fn new() -> Env {
        let td = TestDir::new();
        let server = started(&td);
        Env { td, server }
    }

    fn p(&self, f: &str) -> PathBuf {
        self.td.path().join(f)
    }

    fn tpm2(&self, tool: &str) -> Command {
        self.server.tpm2(tool)
    }

    /// Starts a trial (`policy` false) or policy session in `file`.
    fn session(&self, file: &str, policy: bool) {
        let mut c = self.tpm2("tpm2_startauthsession");
        if policy {
            c.arg("--policy-session");
        }
        ok(c.arg("-S").arg(self.p(file)));
    }

    fn end_session(&self, file: &str) {
        ok(self.tpm2("tpm2_flushcontext").arg(self.p(file)));
    }

    /// A sealed object with authPolicy from `policy_file`, loaded into seal.ctx.
    fn seal(&self, policy_file: &str) {
        fs::write(self.p("secret.bin"), b"policy-assert secret").unwrap();
        ok(self
            .tpm2("tpm2_createprimary")
            .args(["-C", "o", "-c"])
            .arg(self.p("prim.ctx")));
        ok(self
            .tpm2("tpm2_create")
            .arg("-C")
            .arg(self.p("prim.ctx"))
            .arg("-L")
            .arg(self.p(policy_file))
            .args(["-a", "fixedtpm|fixedparent"])
            .arg("-i")
            .arg(self.p("secret.bin"))
            .arg("-u")
            .arg(self.p("seal.pub"))
            .arg("-r")
            .arg(self.p("seal.priv")));
        flush(&self.server);
        ok(self
            .tpm2("tpm2_load")
            .arg("-C")
            .arg(self.p("prim.ctx"))
            .arg("-u")
            .arg(self.p("seal.pub"))
            .arg("-r")
            .arg(self.p("seal.priv"))
            .arg("-c")
            .arg(self.p("seal.ctx")));
        flush(&self.server);
    }

    /// Unseals seal.ctx with the policy session in `file`; flushes everything.
    fn unseal_ok(&self, file: &str) {
        let out = run_timeout(
            self.tpm2("tpm2_unseal")
                .arg("-c")
                .arg(self.p("seal.ctx"))
                .arg("-p")
                .arg(format!("session:{}", self.p(file).display())),
        );
        flush(&self.server);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, b"policy-assert secret");
    }

    fn read(&self, f: &str) -> Vec<u8> {
        fs::read(self.p(f)).unwrap()
    }

    /// The Name of NV index `index` as tpm2_nvreadpublic prints it.
    fn nv_name(&self, index: &str) -> Vec<u8> {
        let out = ok(self.tpm2("tpm2_nvreadpublic").arg(index));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("name:"))
            .expect("name line");
        let hex = line.trim().trim_start_matches("name:").trim();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }
}

/// Asserts that a tool failed with TPM response code `code`.
fn refused(out: &std::process::Output, code: u32, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what}");
    assert!(
        err.contains(&format!("ErrorCode (0x{code:08x})")),
        "{what}: expected {code:#x}: {err}"
    );
}

/// H(H(0...0 || cc || name) || policyRef)
fn policy_update(code: u32, name: &[u8], policy_ref: &[u8]) -> Vec<u8> {
    let d = sha256(&[&[0u8; 32], &cc(code), name]);
    sha256(&[&d, policy_ref])
}

#[test]
fn policy_signed_with_openssl_signature_and_ticket() {
    require!(
        "openssl",
        "tpm2_startup",
        "tpm2_loadexternal",
        "tpm2_startauthsession",
        "tpm2_policysigned",
        "tpm2_policyticket",
        "tpm2_create",
        "tpm2_unseal",
        "tpm2_flushcontext"
    );
    let e = Env::new();
    let dir = e.td.path();
    let openssl = |args: &[&str]| {
        ok(Command::new("openssl").current_dir(dir).args(args));
    };
    openssl(&["genrsa", "-out", "private.pem", "2048"]);
    openssl(&["rsa", "-in", "private.pem", "-pubout", "-out", "public.pem"]);
    // aHash input without nonceTPM, cpHashA or policyRef: just the expiration.
    let sign = |expiration: i32, out: &str| {
        fs::write(dir.join(format!("{out}.data")), expiration.to_be_bytes()).unwrap();
        openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            "private.pem",
            "-out",
            out,
            &format!("{out}.data"),
        ]);
    };
    sign(0, "sig0.bin");
    sign(-3600, "sigt.bin");
    sign(5, "sigbad.bin");
    ok(e.tpm2("tpm2_loadexternal")
        .args(["-C", "n", "-G", "rsa", "-u"])
        .arg(e.p("public.pem"))
        .arg("-c")
        .arg(e.p("key.ctx"))
        .arg("-n")
        .arg(e.p("key.name")));
    flush(&e.server);
    let name = e.read("key.name");
    let want = policy_update(CC_POLICY_SIGNED, &name, b"");

    let policysigned = |session: &str, sig: &str, extra: &[&str]| {
        let mut c = e.tpm2("tpm2_policysigned");
        c.arg("-S")
            .arg(e.p(session))
            .args(["-g", "sha256", "-f", "rsassa", "-s"])
            .arg(e.p(sig))
            .arg("-c")
            .arg(e.p("key.ctx"))
            .args(extra);
        run_timeout(&mut c)
    };
    // Trial session: the digest computed here.
    e.session("trial.ctx", false);
    let out = policysigned(
        "trial.ctx",
        "sig0.bin",
        &["-L", e.p("signed.policy").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.end_session("trial.ctx");
    flush(&e.server);
    assert_eq!(e.read("signed.policy"), want);
    e.seal("signed.policy");

    // A real session with the signature authorizes the unseal.
    e.session("s.ctx", true);
    let out = policysigned("s.ctx", "sig0.bin", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.unseal_ok("s.ctx");

    // A signature over other data is refused.
    e.session("s.ctx", true);
    let out = policysigned("s.ctx", "sigbad.bin", &[]);
    refused(&out, 0x5DB, "a wrong signature must be refused");
    flush(&e.server);

    // A negative expiration returns a ticket that PolicyTicket accepts later.
    e.session("s.ctx", true);
    let out = policysigned(
        "s.ctx",
        "sigt.bin",
        &[
            "-t",
            "-3600",
            "--ticket",
            e.p("auth.ticket").to_str().unwrap(),
            "--timeout",
            e.p("auth.timeout").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    flush(&e.server);
    let policyticket = |ticket: &str| {
        e.session("s.ctx", true);
        let out = run_timeout(
            e.tpm2("tpm2_policyticket")
                .arg("-S")
                .arg(e.p("s.ctx"))
                .arg("-n")
                .arg(e.p("key.name"))
                .arg("--ticket")
                .arg(e.p(ticket))
                .arg("--timeout")
                .arg(e.p("auth.timeout")),
        );
        out
    };
    let out = policyticket("auth.ticket");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.unseal_ok("s.ctx");
    // A tampered ticket is refused.
    let mut bad = e.read("auth.ticket");
    let last = bad.len() - 1;
    bad[last] ^= 1;
    fs::write(e.p("bad.ticket"), bad).unwrap();
    let out = policyticket("bad.ticket");
    refused(&out, 0x5E0, "a tampered ticket must be refused");
    flush(&e.server);
}

#[test]
fn policy_secret_with_expiration_and_ticket() {
    require!(
        "tpm2_startup",
        "tpm2_startauthsession",
        "tpm2_policysecret",
        "tpm2_policyticket",
        "tpm2_create",
        "tpm2_unseal",
        "tpm2_flushcontext"
    );
    let e = Env::new();
    let owner = 0x4000_0001u32.to_be_bytes();
    fs::write(e.p("owner.name"), owner).unwrap();
    e.session("trial.ctx", false);
    ok(e.tpm2("tpm2_policysecret")
        .arg("-S")
        .arg(e.p("trial.ctx"))
        .args(["-c", "o", "-L"])
        .arg(e.p("secret.policy")));
    e.end_session("trial.ctx");
    assert_eq!(
        e.read("secret.policy"),
        policy_update(CC_POLICY_SECRET, &owner, b"")
    );
    e.seal("secret.policy");

    // With an expiration and a ticket.
    e.session("s.ctx", true);
    ok(e.tpm2("tpm2_policysecret")
        .arg("-S")
        .arg(e.p("s.ctx"))
        .args(["-c", "o", "-t", "-600", "--ticket"])
        .arg(e.p("secret.ticket"))
        .arg("--timeout")
        .arg(e.p("secret.timeout")));
    assert_eq!(e.read("secret.timeout").len(), 8);
    e.unseal_ok("s.ctx");
    // The ticket stands in for the owner authorization in a new session.
    e.session("s.ctx", true);
    ok(e.tpm2("tpm2_policyticket")
        .arg("-S")
        .arg(e.p("s.ctx"))
        .arg("-n")
        .arg(e.p("owner.name"))
        .arg("--ticket")
        .arg(e.p("secret.ticket"))
        .arg("--timeout")
        .arg(e.p("secret.timeout")));
    e.unseal_ok("s.ctx");
    // A ticket with another timeout does not verify.
    let mut t = e.read("secret.timeout");
    t[7] ^= 1;
    fs::write(e.p("bad.timeout"), t).unwrap();
    e.session("s.ctx", true);
    let out = run_timeout(
        e.tpm2("tpm2_policyticket")
            .arg("-S")
            .arg(e.p("s.ctx"))
            .arg("-n")
            .arg(e.p("owner.name"))
            .arg("--ticket")
            .arg(e.p("secret.ticket"))
            .arg("--timeout")
            .arg(e.p("bad.timeout")),
    );
    refused(&out, 0x5E0, "a ticket for another timeout must be refused");
    flush(&e.server);
}

#[test]
fn policy_nv_compares_the_index() {
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvreadpublic",
        "tpm2_policynv",
        "tpm2_create",
        "tpm2_unseal"
    );
    let e = Env::new();
    let index = "0x1500016";
    ok(e.tpm2("tpm2_nvdefine")
        .args(["-C", "o", "-s", "1", "-a", "authread|authwrite", index]));
    fs::write(e.p("aa.bin"), [0xAA]).unwrap();
    fs::write(e.p("bb.bin"), [0xBB]).unwrap();
    ok(e.tpm2("tpm2_nvwrite")
        .args(["-C", index, "-i"])
        .arg(e.p("aa.bin"))
        .arg(index));
    let name = e.nv_name(index);
    let policynv = |session: &str, operand: &str, op: &str, out: Option<&str>| {
        let mut c = e.tpm2("tpm2_policynv");
        c.arg("-S").arg(e.p(session)).arg("-i").arg(e.p(operand));
        if let Some(o) = out {
            c.arg("-L").arg(e.p(o));
        }
        c.args([index, op]);
        run_timeout(&mut c)
    };
    e.session("trial.ctx", false);
    let out = policynv("trial.ctx", "aa.bin", "eq", Some("nv.policy"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.end_session("trial.ctx");
    let args = sha256(&[&[0xAA], &0u16.to_be_bytes(), &0u16.to_be_bytes()]);
    let want = sha256(&[&[0u8; 32], &cc(CC_POLICY_NV), &args, &name]);
    assert_eq!(e.read("nv.policy"), want);
    e.seal("nv.policy");

    e.session("s.ctx", true);
    let out = policynv("s.ctx", "aa.bin", "eq", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.unseal_ok("s.ctx");
    // 0xAA is not 0xBB: TPM_RC_POLICY.
    e.session("s.ctx", true);
    let out = policynv("s.ctx", "bb.bin", "eq", None);
    refused(&out, 0x126, "a false comparison must be refused");
    flush(&e.server);
}

#[test]
fn policy_counter_timer_compares_time() {
    require!(
        "tpm2_startup",
        "tpm2_policycountertimer",
        "tpm2_create",
        "tpm2_unseal"
    );
    let e = Env::new();
    // Time (ms since the TPM started) is below an hour.
    let ct = |session: &str, op: &str, out: Option<&str>| {
        let mut c = e.tpm2("tpm2_policycountertimer");
        c.arg("-S").arg(e.p(session));
        if let Some(o) = out {
            c.arg("-L").arg(e.p(o));
        }
        c.args([op, "time=3600000"]);
        run_timeout(&mut c)
    };
    e.session("trial.ctx", false);
    let out = ct("trial.ctx", "--ult", Some("ct.policy"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.end_session("trial.ctx");
    // operandB: the 8-octet Time; offset 0; TPM_EO_UNSIGNED_LT (5).
    let args = sha256(&[
        &3_600_000u64.to_be_bytes(),
        &0u16.to_be_bytes(),
        &5u16.to_be_bytes(),
    ]);
    let want = sha256(&[&[0u8; 32], &cc(CC_POLICY_COUNTER_TIMER), &args]);
    assert_eq!(e.read("ct.policy"), want);
    e.seal("ct.policy");

    e.session("s.ctx", true);
    let out = ct("s.ctx", "--ult", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.unseal_ok("s.ctx");
    e.session("s.ctx", true);
    let out = ct("s.ctx", "--ugt", None);
    refused(&out, 0x126, "Time is not above an hour");
    flush(&e.server);
}

#[test]
fn policy_authorize_nv_follows_the_index() {
    require!(
        "tpm2_startup",
        "tpm2_nvdefine",
        "tpm2_nvwrite",
        "tpm2_nvreadpublic",
        "tpm2_policyauthorizenv",
        "tpm2_policycommandcode",
        "tpm2_create",
        "tpm2_unseal"
    );
    let e = Env::new();
    let index = "0x1500017";
    // The approved policy: PolicyCommandCode(Unseal), stored as a TPMT_HA.
    let approved = sha256(&[&[0u8; 32], &cc(CC_POLICY_COMMAND_CODE), &cc(CC_UNSEAL)]);
    let mut tpmt_ha = vec![0x00, 0x0B];
    tpmt_ha.extend_from_slice(&approved);
    fs::write(e.p("approved.bin"), &tpmt_ha).unwrap();
    ok(e.tpm2("tpm2_nvdefine")
        .args(["-C", "o", "-s", "34", "-a", "authread|authwrite", index]));
    ok(e.tpm2("tpm2_nvwrite")
        .args(["-C", index, "-i"])
        .arg(e.p("approved.bin"))
        .arg(index));
    let name = e.nv_name(index);
    let authorize_nv = |session: &str, out: Option<&str>| {
        let mut c = e.tpm2("tpm2_policyauthorizenv");
        c.arg("-S").arg(e.p(session)).args(["-C", index]);
        if let Some(o) = out {
            c.arg("-L").arg(e.p(o));
        }
        c.arg(index);
        run_timeout(&mut c)
    };
    e.session("trial.ctx", false);
    let out = authorize_nv("trial.ctx", Some("anv.policy"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.end_session("trial.ctx");
    let want = sha256(&[&[0u8; 32], &cc(CC_POLICY_AUTHORIZE_NV), &name]);
    assert_eq!(e.read("anv.policy"), want);
    e.seal("anv.policy");

    // Reaching the approved policy first, the index authorizes the unseal.
    e.session("s.ctx", true);
    ok(e.tpm2("tpm2_policycommandcode")
        .arg("-S")
        .arg(e.p("s.ctx"))
        .arg("TPM2_CC_Unseal"));
    let out = authorize_nv("s.ctx", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e.unseal_ok("s.ctx");
    // Without it, PolicyAuthorizeNV is refused.
    e.session("s.ctx", true);
    let out = authorize_nv("s.ctx", None);
    refused(&out, 0x084, "an unapproved policy must be refused");
    flush(&e.server);
}

#[test]
fn policy_template_restricts_create() {
    require!(
        "tpm2_startup",
        "tpm2_createprimary",
        "tpm2_create",
        "tpm2_policytemplate",
        "tpm2_startauthsession"
    );
    let e = Env::new();
    // The template tpm2_create sends for an ECC key (saved without creating).
    ok(e.tpm2("tpm2_createprimary")
        .args(["-C", "o", "-c"])
        .arg(e.p("p0.ctx")));
    ok(e.tpm2("tpm2_create")
        .arg("-C")
        .arg(e.p("p0.ctx"))
        .args(["-G", "ecc", "--template-data"])
        .arg(e.p("template.data"))
        .arg("-u")
        .arg(e.p("k0.pub"))
        .arg("-r")
        .arg(e.p("k0.priv")));
    flush(&e.server);
    let template = e.read("template.data");
    fs::write(e.p("template.hash"), sha256(&[&template])).unwrap();

    e.session("trial.ctx", false);
    ok(e.tpm2("tpm2_policytemplate")
        .arg("-S")
        .arg(e.p("trial.ctx"))
        .arg("-L")
        .arg(e.p("template.policy"))
        .arg("--template-hash")
        .arg(e.p("template.hash")));
    e.end_session("trial.ctx");
    let want = sha256(&[&[0u8; 32], &cc(CC_POLICY_TEMPLATE), &sha256(&[&template])]);
    assert_eq!(e.read("template.policy"), want);

    // A parent whose authPolicy is the template policy.
    ok(e.tpm2("tpm2_createprimary")
        .args(["-C", "o", "-L"])
        .arg(e.p("template.policy"))
        .arg("-c")
        .arg(e.p("parent.ctx")));
    flush(&e.server);
    let create = |alg: &str| {
        e.session("s.ctx", true);
        ok(e.tpm2("tpm2_policytemplate")
            .arg("-S")
            .arg(e.p("s.ctx"))
            .arg("--template-hash")
            .arg(e.p("template.hash")));
        let out = run_timeout(
            e.tpm2("tpm2_create")
                .arg("-C")
                .arg(e.p("parent.ctx"))
                .arg("-P")
                .arg(format!("session:{}", e.p("s.ctx").display()))
                .args(["-G", alg, "-u"])
                .arg(e.p("k.pub"))
                .arg("-r")
                .arg(e.p("k.priv")),
        );
        flush(&e.server);
        out
    };
    let out = create("ecc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = create("rsa");
    refused(&out, 0x99D, "another template must be refused");
}

#[test]
fn policy_session_times_out() {
    require!(
        "tpm2_startup",
        "tpm2_startauthsession",
        "tpm2_policysecret",
        "tpm2_create",
        "tpm2_unseal"
    );
    let e = Env::new();
    let owner = 0x4000_0001u32.to_be_bytes();
    fs::write(
        e.p("secret.policy"),
        policy_update(CC_POLICY_SECRET, &owner, b""),
    )
    .unwrap();
    e.seal("secret.policy");
    let secret = |expiration: &str| {
        e.session("s.ctx", true);
        ok(e.tpm2("tpm2_policysecret")
            .arg("-S")
            .arg(e.p("s.ctx"))
            .args(["-c", "o", "-x", "-t", expiration]));
    };
    // Bound to nonceTPM, 60 s from the start of the session: usable now.
    secret("60");
    e.unseal_ok("s.ctx");
    // 1 s: after 2 s the session no longer authorizes (TPM_RC_EXPIRED, session 1).
    secret("1");
    std::thread::sleep(std::time::Duration::from_secs(2));
    let out = run_timeout(
        e.tpm2("tpm2_unseal")
            .arg("-c")
            .arg(e.p("seal.ctx"))
            .arg("-p")
            .arg(format!("session:{}", e.p("s.ctx").display())),
    );
    flush(&e.server);
    refused(&out, 0x9A3, "an expired policy session must be refused");
}
