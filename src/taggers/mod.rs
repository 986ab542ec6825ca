//! Built-in taggers, one per file. Each registers itself with `inventory`
//! under the name hierarchy.yaml uses.

pub mod commit_sha;
pub mod conda_version;
pub mod date;
pub mod hub_version;
pub mod java_version;
pub mod julia_version;
pub mod lab_version;
pub mod mamba_version;
pub mod notebook_version;
pub mod os_version;
pub mod python_major_minor;
pub mod python_version;
pub mod pytorch_version;
pub mod r_version;
pub mod spark_version;
pub mod tensorflow_version;
