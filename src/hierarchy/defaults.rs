//! Where a stack's settings come from when its file leaves them out.

pub const FILE: &str = "hierarchy.yaml";
pub const REGISTRY: &str = "quay.io";
pub const OWNER: &str = "jupyter";
pub const REPOSITORY: &str = "jupyter/docker-stacks";
pub const COMMAND_TIMEOUT: u64 = 300;
/// Folder of an image's build context, `{image}` replaced.
pub const CONTEXT: &str = "images/{image}";
pub const DOCKERFILE: &str = "Dockerfile";
