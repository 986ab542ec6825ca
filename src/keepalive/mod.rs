//! The program that keeps an image's container alive while its commands run.
//!
//! It waits for a signal, forever: a few machine instructions in a static
//! ELF executable that this module assembles (no compiler, no libc, the same
//! bytes on every build). stacktag puts it into the created container through
//! the daemon's archive API and makes it the entrypoint, so nothing is needed
//! from the image: images built `FROM scratch`, distroless images and images
//! whose `sleep` was removed are tagged like any other.

use crate::formats::tags::Platform;

/// Where the program is put in the container (its process is `keep-alive`).
pub const PATH: &str = "/.stacktag/keep-alive";

/// Where programs are loaded: the usual base of static executables.
const BASE: u64 = 0x40_0000;
const ELF_HEADER: usize = 64;
const PROGRAM_HEADER: usize = 56;

/// The machine code: wait for a signal, and again if one was handled.
fn code(platform: Platform) -> Vec<u8> {
    match platform {
        // mov eax, 34 (pause); syscall; jmp back to the mov
        Platform::X86_64 => vec![0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7],
        // ppoll(NULL, 0, NULL, NULL, 0) blocks until a signal; then loop.
        Platform::Aarch64 => [
            0xd280_0000u32, // mov x0, #0    no file descriptors
            0xd280_0001,    // mov x1, #0    of them
            0xd280_0002,    // mov x2, #0    no timeout
            0xd280_0003,    // mov x3, #0    no signal mask
            0xd280_0004,    // mov x4, #0
            0xd280_0928,    // mov x8, #73   ppoll
            0xd400_0001,    // svc #0
            0x17ff_fff9,    // b -7 instructions, to the first mov
        ]
        .iter()
        .flat_map(|i| i.to_le_bytes())
        .collect(),
    }
}

/// ELF's machine number.
fn machine(platform: Platform) -> u16 {
    match platform {
        Platform::X86_64 => 62,
        Platform::Aarch64 => 183,
    }
}

/// The static executable for `platform`: an ELF header, one loadable
/// segment (the whole file, read + execute), and the code right after.
pub fn program(platform: Platform) -> Vec<u8> {
    let code = code(platform);
    let size = (ELF_HEADER + PROGRAM_HEADER + code.len()) as u64;
    let entry = BASE + (ELF_HEADER + PROGRAM_HEADER) as u64;
    let mut elf = Vec::with_capacity(size as usize);
    // e_ident: magic, 64-bit, little-endian, version 1, System V ABI.
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    elf.extend_from_slice(&[0; 8]);
    elf.extend_from_slice(&2u16.to_le_bytes()); // e_type: executable
    elf.extend_from_slice(&machine(platform).to_le_bytes());
    elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
    elf.extend_from_slice(&entry.to_le_bytes());
    elf.extend_from_slice(&(ELF_HEADER as u64).to_le_bytes()); // e_phoff
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_shoff: no sections
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    elf.extend_from_slice(&(ELF_HEADER as u16).to_le_bytes());
    elf.extend_from_slice(&(PROGRAM_HEADER as u16).to_le_bytes());
    elf.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
    elf.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
                                    // The program header: PT_LOAD, R+X, the file from offset 0 at BASE.
    elf.extend_from_slice(&1u32.to_le_bytes());
    elf.extend_from_slice(&5u32.to_le_bytes());
    elf.extend_from_slice(&0u64.to_le_bytes());
    elf.extend_from_slice(&BASE.to_le_bytes());
    elf.extend_from_slice(&BASE.to_le_bytes());
    elf.extend_from_slice(&size.to_le_bytes());
    elf.extend_from_slice(&size.to_le_bytes());
    // 64 KiB: valid for 4 KiB and 64 KiB pages (aarch64 kernels use both).
    elf.extend_from_slice(&0x1_0000u64.to_le_bytes());
    elf.extend_from_slice(&code);
    debug_assert_eq!(elf.len() as u64, size);
    elf
}

/// A tar archive with the program at [`PATH`] (mode 0755, owned by root),
/// for the daemon's archive API, extracted at `/`.
pub fn archive(platform: Platform) -> Vec<u8> {
    let (dir, file) = PATH
        .trim_start_matches('/')
        .rsplit_once('/')
        .expect("PATH is /dir/file");
    let program = program(platform);
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Directory);
    header.set_mode(0o755);
    header.set_size(0);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, format!("{dir}/"), std::io::empty())
        .expect("writing to memory");
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o755);
    header.set_size(program.len() as u64);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, format!("{dir}/{file}"), program.as_slice())
        .expect("writing to memory");
    tar.into_inner().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    /// Runs `program` (directly, or under `runner`) and checks that it is
    /// still waiting after half a second, then that a signal ends it.
    fn waits_until_killed(platform: Platform, runner: Option<&str>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keep-alive");
        std::fs::write(&path, program(platform)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut cmd = match runner {
            Some(r) => {
                let mut c = Command::new(r);
                c.arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let mut child = cmd.stdin(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{platform} keep-alive exited: {:?}",
            child.try_wait()
        );
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{status:?}");
    }

    #[test]
    fn the_x86_64_program_waits_until_killed() {
        waits_until_killed(Platform::X86_64, None);
    }

    /// Under qemu's user-mode emulator (`make fixtures` installs Debian's
    /// qemu-user-static), as the aarch64 kernel would run it.
    #[test]
    fn the_aarch64_program_waits_until_killed() {
        waits_until_killed(Platform::Aarch64, Some("qemu-aarch64-static"));
    }

    #[test]
    fn the_archive_holds_the_program_executable_at_its_path() {
        let bytes = archive(Platform::Aarch64);
        let mut tar = tar::Archive::new(bytes.as_slice());
        let entries: Vec<(String, u32, u64)> = tar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.size().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                (".stacktag/".to_string(), 0o755, 0),
                (
                    ".stacktag/keep-alive".to_string(),
                    0o755,
                    program(Platform::Aarch64).len() as u64
                )
            ]
        );
        assert_eq!(program(Platform::X86_64).len(), 129);
        assert_eq!(&program(Platform::Aarch64)[18..20], &183u16.to_le_bytes());
    }
}
