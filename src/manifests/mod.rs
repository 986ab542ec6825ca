//! Built-in manifest sections, one per file, registered with `inventory`.
//! The Build Info header is not a section: every manifest starts with it.

pub mod apt_packages;
pub mod build_info;
pub mod julia_packages;
pub mod pip_packages;
pub mod python_packages;
pub mod r_packages;
pub mod spark_info;
