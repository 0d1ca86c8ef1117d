public import Foundation

/// A CA and a serving certificate for 127.0.0.1 made by `scripts/demo/make-certs.sh` (the
/// `openssl` command), the same script the demo uses.
public struct ServingCertificates: Sendable {
    public let directory: String
    public var caCertificateFile: String { directory + "/ca.crt" }
    public var certificateFile: String { directory + "/tls.crt" }
    public var keyFile: String { directory + "/tls.key" }
    public var caCertificatePEM: Data { FileManager.default.contents(atPath: caCertificateFile) ?? Data() }

    public static func make(in directory: String, names: [String] = ["127.0.0.1", "localhost"]) async throws
        -> ServingCertificates
    {
        try await Shell.run(
            "bash", [Repository.path("scripts/demo/make-certs.sh"), directory] + names, logDirectory: directory,
            name: "make-certs")
        return ServingCertificates(directory: directory)
    }
}

/// Runs a short command to completion (openssl, bash) as a child process, off the
/// cooperative pool, and fails with its stderr when it exits non-zero.
public enum Shell {
    public static func run(_ program: String, _ arguments: [String], logDirectory: String, name: String) async throws {
        let executable = program.hasPrefix("/") ? program : try which(program)
        let child = try ChildProcess(
            name: name, executable: executable, arguments: arguments, logDirectory: logDirectory)
        let code = try await child.waitForExit(timeout: .seconds(60))
        guard code == 0 else {
            throw ShellError.failed(
                command: ([program] + arguments).joined(separator: " "), code: code, stderr: child.standardError)
        }
    }

    /// The first `PATH` entry holding an executable `program`.
    public static func which(_ program: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ShellError.notFound(program)
    }
}

/// A command that failed or could not be found, naming it, with what it printed.
public struct ShellError: Error, CustomStringConvertible {
    private enum Kind {
        case failed(command: String, code: Int32, stderr: String)
        case notFound(program: String)
    }

    private let kind: Kind

    static func failed(command: String, code: Int32, stderr: String) -> ShellError {
        ShellError(kind: .failed(command: command, code: code, stderr: stderr))
    }

    static func notFound(_ program: String) -> ShellError { ShellError(kind: .notFound(program: program)) }

    public var description: String {
        switch kind {
        case .failed(let command, let code, let stderr): return "`\(command)` exited \(code): \(stderr.suffix(2_000))"
        case .notFound(let program): return "\(program) is not on PATH (make install installs it)"
        }
    }
}
