//! The status stream of a build solved through BuildKit's control API (the
//! builds with secrets): the daemon's `/grpc` endpoint, upgraded to HTTP/2
//! on a connection of its own, asked `Control.Status` for the build's ref.
//! Its messages are the same `StatusResponse`s as `/build`'s aux stream, so
//! the same [`super::buildkit::Decoder`] turns them into the log and the
//! step lines. bollard keeps its own `/grpc` connection to itself, hence
//! this one.

use bollard::moby::buildkit::v1::control_client::ControlClient;
use bollard::moby::buildkit::v1::{StatusRequest, StatusResponse};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// The status messages of the build `build_ref`, as BuildKit sends them;
/// `Err(why)` when the stream cannot be had (a daemon not on a unix
/// socket, an API that refuses): the build goes on without step output.
pub async fn stream(
    host: &str,
    build_ref: &str,
) -> Result<tonic::codec::Streaming<StatusResponse>, String> {
    let path = host
        .strip_prefix("unix://")
        .ok_or_else(|| format!("the daemon at {host} is not on a unix socket"))?
        .to_string();
    let connector = tower::service_fn(move |_: http::Uri| {
        let path = path.clone();
        async move { upgraded(&path).await.map(TokioIo::new) }
    });
    let channel = tonic::transport::Endpoint::from_static("http://buildkit.invalid")
        .connect_with_connector(connector)
        .await
        .map_err(|e| format!("cannot reach BuildKit's control API: {e}"))?;
    let mut client = ControlClient::new(channel);
    client
        .status(StatusRequest {
            r#ref: build_ref.to_string(),
        })
        .await
        .map(tonic::Response::into_inner)
        .map_err(|e| format!("BuildKit's control API gives no status: {}", e.message()))
}

/// A connection to the daemon's `/grpc`, switched to HTTP/2 (h2c).
async fn upgraded(socket: &str) -> std::io::Result<UnixStream> {
    let mut s = UnixStream::connect(socket).await?;
    s.write_all(
        b"POST /grpc HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n",
    )
    .await?;
    // The response head, byte by byte: what follows it is already HTTP/2.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 {
            return Err(std::io::Error::other("no end to the daemon's answer"));
        }
        head.push(s.read_u8().await?);
    }
    let status = String::from_utf8_lossy(&head);
    if !status.starts_with("HTTP/1.1 101") {
        let line = status.lines().next().unwrap_or_default().to_string();
        return Err(std::io::Error::other(format!(
            "the daemon did not switch /grpc to HTTP/2: {line}"
        )));
    }
    Ok(s)
}
