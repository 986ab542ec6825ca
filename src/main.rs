fn main() -> std::process::ExitCode {
    stacktag::cli::main()
}
