//! Which process owns a container, told by its labels, and whether that
//! process is still alive: the same machine, the same boot, the same PID
//! namespace, and a process with that PID started at that time.

use std::collections::HashMap;

/// Labels that name the owning process of a container.
pub const HOST_LABEL: &str = "org.stacktag.owner.host";
pub const MACHINE_LABEL: &str = "org.stacktag.owner.machine";
pub const BOOT_LABEL: &str = "org.stacktag.owner.boot";
pub const PIDNS_LABEL: &str = "org.stacktag.owner.pidns";
pub const PID_LABEL: &str = "org.stacktag.owner.pid";
pub const START_LABEL: &str = "org.stacktag.owner.start";

/// A process, as labels record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub host: String,
    /// `/etc/machine-id`, so that two machines of one name are told apart.
    pub machine: String,
    /// The kernel's boot id: a machine restarted since runs none of its old processes.
    pub boot: String,
    /// The PID namespace (`pid:[4026531836]`): PIDs mean something only in their own.
    pub pidns: String,
    pub pid: u32,
    /// When the process started, in clock ticks after boot: a PID used again
    /// by another process has another start time.
    pub start: u64,
}

/// What can be said about a container's owner from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    Dead,
    /// Another machine, another PID namespace, or no owner labels (made by
    /// an older stacktag): left alone.
    Unknown,
}

impl Owner {
    /// This process; `None` where /proc does not say (not Linux).
    pub fn current() -> Option<Owner> {
        let pid = std::process::id();
        Some(Owner {
            host: read_trimmed("/proc/sys/kernel/hostname")?,
            machine: read_trimmed("/etc/machine-id").unwrap_or_default(),
            boot: read_trimmed("/proc/sys/kernel/random/boot_id")?,
            pidns: std::fs::read_link("/proc/self/ns/pid")
                .ok()?
                .display()
                .to_string(),
            pid,
            start: start_time(pid)?,
        })
    }

    pub fn labels(&self) -> [(String, String); 6] {
        [
            (HOST_LABEL.into(), self.host.clone()),
            (MACHINE_LABEL.into(), self.machine.clone()),
            (BOOT_LABEL.into(), self.boot.clone()),
            (PIDNS_LABEL.into(), self.pidns.clone()),
            (PID_LABEL.into(), self.pid.to_string()),
            (START_LABEL.into(), self.start.to_string()),
        ]
    }

    pub fn from_labels(labels: &HashMap<String, String>) -> Option<Owner> {
        let get = |k: &str| labels.get(k).cloned();
        Some(Owner {
            host: get(HOST_LABEL)?,
            machine: get(MACHINE_LABEL)?,
            boot: get(BOOT_LABEL)?,
            pidns: get(PIDNS_LABEL)?,
            pid: get(PID_LABEL)?.parse().ok()?,
            start: get(START_LABEL)?.parse().ok()?,
        })
    }

    /// Whether `self` still runs, seen from `me` (this process).
    pub fn liveness(&self, me: &Owner) -> Liveness {
        if self.host != me.host || self.machine != me.machine {
            return Liveness::Unknown;
        }
        if self.boot != me.boot {
            return Liveness::Dead;
        }
        if self.pidns != me.pidns {
            return Liveness::Unknown;
        }
        match start_time(self.pid) {
            Some(start) if start == self.start => Liveness::Alive,
            _ => Liveness::Dead,
        }
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// Field 22 of `/proc/{pid}/stat`: the start time, in clock ticks after boot.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// The process name (field 2) is in parentheses and may hold spaces and
/// parentheses itself: count the fields after its last `)`.
fn parse_start_time(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name; field 22 is 19 further.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_read_after_the_process_name() {
        let stat = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 ...";
        assert_eq!(parse_start_time(stat), Some(987654));
        assert_eq!(parse_start_time("4242 (x"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_changed_field_is_dead_or_unknown() {
        let me = Owner::current().expect("Linux /proc");
        assert_eq!(
            Owner::from_labels(&me.labels().into_iter().collect()),
            Some(me.clone())
        );
        assert_eq!(me.liveness(&me), Liveness::Alive);
        let other = |f: fn(&mut Owner)| {
            let mut o = me.clone();
            f(&mut o);
            o.liveness(&me)
        };
        assert_eq!(other(|o| o.start += 1), Liveness::Dead, "PID used again");
        assert_eq!(other(|o| o.boot = "x".into()), Liveness::Dead, "restarted");
        assert_eq!(other(|o| o.host = "x".into()), Liveness::Unknown);
        assert_eq!(other(|o| o.machine = "x".into()), Liveness::Unknown);
        assert_eq!(other(|o| o.pidns = "x".into()), Liveness::Unknown);
        // A process that ended: a child that exited and was waited for.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let gone = Owner { pid, ..me.clone() };
        assert_eq!(gone.liveness(&me), Liveness::Dead);
        assert!(Owner::from_labels(&HashMap::new()).is_none());
    }
}
