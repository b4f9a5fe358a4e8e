use super::*;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn socket(s: &str) -> SocketArgs {
    match parse(&args(s)).unwrap() {
        SwtpmCommand::Socket(a) => *a,
        other => panic!("{other:?}"),
    }
}

#[test]
fn qemu_documentation_example() {
    let a = socket(
        "socket --tpmstate dir=/tmp/mytpm1 --ctrl type=unixio,path=/tmp/mytpm1/swtpm-sock --tpm2 --log level=20",
    );
    assert_eq!(a.state_dir, PathBuf::from("/tmp/mytpm1"));
    assert_eq!(
        a.ctrl,
        Some(ChannelSpec::Unix {
            path: PathBuf::from("/tmp/mytpm1/swtpm-sock"),
            mode: 0o600
        })
    );
    assert_eq!(a.log.level, Some(20));
    assert_eq!(a.startup, StartupMode::NeedInit);
    assert!(!a.terminate);
}

#[test]
fn libvirt_style_options() {
    let a = socket(
        "socket --ctrl type=unixio,path=/run/libvirt/qemu/swtpm/1-vm-swtpm.sock,mode=0600 \
         --log file=/var/log/swtpm/libvirt/qemu/vm-swtpm.log \
         --terminate --tpmstate dir=/var/lib/libvirt/swtpm/uuid/tpm2,mode=0600 --tpm2 \
         --pid file=/run/libvirt/qemu/swtpm/1-vm-swtpm.pid --migration release-lock-outgoing",
    );
    assert!(a.terminate);
    assert_eq!(
        a.pid_file,
        Some(PathBuf::from("/run/libvirt/qemu/swtpm/1-vm-swtpm.pid"))
    );
    assert_eq!(
        a.log.file,
        Some(PathBuf::from("/var/log/swtpm/libvirt/qemu/vm-swtpm.log"))
    );
}

#[test]
fn data_channel_flags_and_equals_forms() {
    let a = socket(
        "socket --tpm2 --tpmstate=dir=/s --server=type=tcp,port=2321,disconnect \
         --ctrl type=tcp,port=2322,bindaddr=127.0.0.1,terminate --flags not-need-init,startup-clear,disable-auto-shutdown \
         --locality reject-locality-4",
    );
    assert_eq!(
        a.server,
        Some(ChannelSpec::Tcp("127.0.0.1:2321".parse().unwrap()))
    );
    assert!(a.disconnect);
    assert!(a.terminate);
    assert_eq!(a.startup, StartupMode::StartupClear);
    assert!(a.disable_auto_shutdown);
    assert!(a.reject_locality_4);
    let a = socket("socket --tpm2 --tpmstate backend-uri=dir:///s -p 5000 --flags not-need-init");
    assert_eq!(a.state_dir, PathBuf::from("/s"));
    assert_eq!(a.startup, StartupMode::NotNeedInit);
    assert_eq!(
        a.server,
        Some(ChannelSpec::Tcp("127.0.0.1:5000".parse().unwrap()))
    );
}

#[test]
fn errors_name_the_option() {
    let cases = [
        ("socket --tpmstate dir=/s --ctrl type=tcp,port=1", "--tpm2"),
        ("socket --tpm2 --ctrl type=tcp,port=1", "--tpmstate"),
        ("socket --tpm2 --tpmstate dir=/s", "--ctrl"),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=tcp,port=1 --bogus",
            "--bogus",
        ),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=tcp,port=1,bindaddr=0.0.0.0",
            "loopback",
        ),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=unixio",
            "path=",
        ),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=tcp,port=99999",
            "port=99999",
        ),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=pipe,path=/x",
            "type=pipe",
        ),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=tcp,port=1 --key file=/k",
            "--key",
        ),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=tcp,port=1 --flags nope",
            "nope",
        ),
        (
            "socket --tpm2 --tpmstate dir=/s --ctrl type=unixio,path=/x,mode=999",
            "mode=999",
        ),
        ("chardev --tpm2", "chardev"),
        ("--tpm2 --tpmstate dir=/s --ctrl type=tcp,port=1", "socket"),
        ("socket --tpm2 --tpmstate", "needs a value"),
    ];
    for (line, needle) in cases {
        let e = parse(&args(line)).unwrap_err();
        assert!(e.contains(needle), "{line}: {e}");
    }
}

#[test]
fn help_version_and_capabilities() {
    assert_eq!(parse(&args("--help")).unwrap(), SwtpmCommand::Help);
    assert_eq!(parse(&args("socket -v")).unwrap(), SwtpmCommand::Version);
    assert_eq!(
        parse(&args("socket --print-capabilities")).unwrap(),
        SwtpmCommand::PrintCapabilities
    );
    let j = capabilities_json();
    assert!(
        j.contains("\"tpm-2.0\"") && j.contains("\"type\": \"swtpm\""),
        "{j}"
    );
}
