//! How a process names itself on the leases it holds, and how a later `sync` tells that the
//! process holding a lease has exited (killed, or cut off before it handed the stream back).

use std::path::Path;

/// This process as a lease names it: `ROLE:PID:START:BOOT:PIDNS.TIMENS@HOST`. The process number alone
/// is not enough: numbers are reused, other machines and containers have their own (every
/// container's first process is number 1), and containers may share a host name: a stopping
/// hub hands back the leases held under its own name, which must then be its alone. So the name also carries when the process started (clock
/// ticks since boot), the boot's id and the process-number namespace; only a holder of the same
/// boot and namespace is ever judged, and only by its own number and start time.
pub struct ThisProcess {
    pid: u32,
    start: Option<u64>,
    boot: Option<String>,
    pid_namespace: Option<String>,
    host: String,
}

impl ThisProcess {
    pub fn new() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start: start_time(pid),
            boot: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty() && !id.contains([':', '@'])),
            pid_namespace: namespaces(),
            host: nix::unistd::gethostname()
                .ok()
                .and_then(|name| name.into_string().ok())
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "localhost".to_owned()),
        }
    }

    /// The lease owner's name for this process in `role` (`sync`, `serve`, `hub`).
    pub fn owner(&self, role: &str) -> String {
        let or_unknown = |part: Option<String>| part.unwrap_or_else(|| "?".to_owned());
        format!(
            "{role}:{}:{}:{}:{}@{}",
            self.pid,
            or_unknown(self.start.map(|start| start.to_string())),
            or_unknown(self.boot.clone()),
            or_unknown(self.pid_namespace.clone()),
            self.host
        )
    }

    /// Whether `holder` names a process of this boot and namespace (`sync`, `serve` or `hub`)
    /// that has exited: no process has its number, or the one that has it started at another
    /// moment. Any other holder (another machine or container, a name this cannot read, a
    /// process that cannot be looked at) is taken to be running.
    pub fn holder_exited(&self, holder: &str) -> bool {
        let (Some(boot), Some(namespace)) = (&self.boot, &self.pid_namespace) else {
            return false;
        };
        let Some((identity, host)) = holder
            .split_once(':')
            .filter(|(role, _)| ROLES.contains(role))
            .and_then(|(_, rest)| rest.split_once('@'))
        else {
            return false;
        };
        // Machines cloned from one image or snapshot may share a boot id: the name tells them
        // apart too.
        if host != self.host {
            return false;
        }
        let parts: Vec<&str> = identity.split(':').collect();
        let [pid, start, holder_boot, holder_namespace] = parts[..] else {
            return false;
        };
        let (Ok(pid), Ok(start)) = (pid.parse::<i32>(), start.parse::<u64>()) else {
            return false;
        };
        if pid <= 0 || holder_boot != boot || holder_namespace != namespace {
            return false;
        }
        match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
            Err(nix::errno::Errno::ESRCH) => true,
            _ => u32::try_from(pid)
                .ok()
                .and_then(start_time)
                .is_some_and(|now_started| now_started != start),
        }
    }
}

/// The roles processes hold leases in.
const ROLES: [&str; 3] = ["sync", "serve", "hub"];

/// Whether a lease owner's name given by hand reads as one this module makes (and could then
/// be judged exited while its process runs).
pub fn is_generated_name(owner: &str) -> bool {
    owner
        .split_once(':')
        .is_some_and(|(role, _)| ROLES.contains(&role))
}

/// Hands back, due at once, every stream whose lease is held by a process of this machine
/// that has exited (killed, or a crash the service manager restarted from), so that its
/// streams resume now instead of when the leases lapse. Each is handed back only under the
/// claim its holder left. Returns how many; a failure is logged, not returned: the leases
/// lapse on their own.
pub async fn hand_back_leases_of_exited(
    this: &ThisProcess,
    store: &shopbridge_store::Store,
    now_ms: i64,
) -> usize {
    let leases = match store.leases().await {
        Ok(leases) => leases,
        Err(err) => {
            // A clean-up: the leases lapse on their own if it cannot run.
            tracing::warn!(error = %err, "could not look for leases of exited processes");
            return 0;
        }
    };
    let mut handed_back = 0;
    for (holder, _, claimed) in leases {
        if !this.holder_exited(&holder) {
            continue;
        }
        match store.release_interrupted(&claimed, &holder, now_ms).await {
            Ok(true) => {
                tracing::warn!(holder = %holder, shop = %claimed.connection_id, stream = %claimed.stream,
                    "the process holding this stream's lease has exited; handed the stream back");
                handed_back += 1;
            }
            // Claimed again meanwhile (another hub starting too): nothing to hand back.
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(holder = %holder, shop = %claimed.connection_id, stream = %claimed.stream,
                    error = %err, "could not hand back the stream of an exited process; its lease lapses instead");
            }
        }
    }
    handed_back
}

/// When a process started, in clock ticks after boot (field 22 of `/proc/PID/stat`).
fn start_time(pid: u32) -> Option<u64> {
    start_of_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Field 22 of a `/proc/PID/stat` line.
fn start_of_stat(stat: &str) -> Option<u64> {
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let (_, after_name) = stat.rsplit_once(')')?;
    // Field 3 (the state) is the first after the name, so field 22 is the 20th.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// This process's process-number and time namespaces, as `PID.TIME` inodes: a process's start
/// time is only comparable within both (a time namespace shifts it). Kernels without time
/// namespaces give `PID.0`.
fn namespaces() -> Option<String> {
    let pid = namespace_inode(Path::new("/proc/self/ns/pid"), "pid")?;
    let time = if Path::new("/proc/self/ns/time").exists() {
        namespace_inode(Path::new("/proc/self/ns/time"), "time")?
    } else {
        "0".to_owned()
    };
    Some(format!("{pid}.{time}"))
}

/// The inode of a namespace link of `kind` (`pid:[4026531836]` gives `4026531836`).
fn namespace_inode(link: &Path, kind: &str) -> Option<String> {
    let target = std::fs::read_link(link).ok()?;
    let inode = target
        .to_str()?
        .strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?;
    (!inode.is_empty() && inode.chars().all(|c| c.is_ascii_digit())).then(|| inode.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_exited_sync_of_this_boot_and_namespace_is_taken_for_gone() {
        let this = ThisProcess::new();
        let owner = this.owner("sync");
        assert!(!this.holder_exited(&owner), "itself: {owner}");
        // A process that has exited, named as it would have named itself.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("a child");
        let pid = child.id();
        let started = start_time(pid).expect("its start");
        let named = |pid: u32, start: u64| {
            owner.replacen(
                &format!("sync:{}:{}:", this.pid, this.start.expect("start")),
                &format!("sync:{pid}:{start}:"),
                1,
            )
        };
        assert!(!this.holder_exited(&named(pid, started)), "still running");
        assert!(
            this.holder_exited(&named(pid, started + 1)),
            "its number now belongs to a process started at another moment"
        );
        child.kill().expect("kill");
        child.wait().expect("reaped");
        assert!(this.holder_exited(&named(pid, started)), "exited");
        for role in ["serve:", "hub:"] {
            let as_role = named(pid, started).replacen("sync:", role, 1);
            assert!(this.holder_exited(&as_role), "{as_role}");
        }
        // Another boot, another namespace, a serving hub, or names that do not parse.
        let boot = this.boot.clone().expect("boot id");
        let namespace = this.pid_namespace.clone().expect("namespace");
        for holder in [
            named(pid, started).replacen(&boot, "another-boot", 1),
            named(pid, started).replacen(&format!(":{namespace}@"), ":1@", 1),
            format!("hub-{pid}"),
            named(pid, started).replacen("sync:", "cron:", 1),
            named(pid, started).replacen(&format!("@{}", this.host), "@a-clone", 1),
            format!("sync@host:{pid}"),
            format!("sync:{pid}:{started}:{boot}@host"),
            format!("sync:0:{started}:{boot}:{namespace}@host"),
            format!("sync:-1:{started}:{boot}:{namespace}@host"),
            format!("sync:99999999999:{started}:{boot}:{namespace}@host"),
            format!("sync:{pid}:soon:{boot}:{namespace}@host"),
        ] {
            assert!(!this.holder_exited(&holder), "{holder}");
        }
    }

    #[test]
    fn names_given_by_hand_must_not_read_as_made_ones() {
        assert!(is_generated_name("hub:1:2:b:3.4@h"));
        assert!(is_generated_name("sync:anything"));
        assert!(!is_generated_name("hub-a"));
        assert!(!is_generated_name("worker:1"));
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let fields: Vec<String> = (3..=25).map(|n| format!("f{n}")).collect();
        let mut stat = format!("42 (a) (b c) {}", fields.join(" "));
        assert_eq!(start_of_stat(&stat), None, "field 22 is not a number");
        stat = stat.replace("f22", "123456");
        assert_eq!(start_of_stat(&stat), Some(123_456));
        assert_eq!(start_of_stat("42 (truncated"), None);
        assert!(start_time(std::process::id()).is_some());
        assert_eq!(namespace_inode(Path::new("/nonexistent"), "pid"), None);
        assert!(namespaces().is_some_and(|ns| ns.contains('.')));
    }
}
