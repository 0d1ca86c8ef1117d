public import Foundation

/// A CA and a serving certificate for 127.0.0.1 made by `scripts/demo/make-certs.sh` (the
/// `openssl` command), the same script the demo uses.
public struct ServingCertificates: Sendable {
    public let directory: String
    public var caCertificateFile: String { directory + "/ca.crt" }
    public var certificateFile: String { directory + "/tls.crt" }
    public var keyFile: String { directory + "/tls.key" }
    public var caCertificatePEM: Data { FileManager.default.contents(atPath: caCertificateFile) ?? Data() }

    public static func make(in directory: String, names: [String] = ["127.0.0.1", "localhost"]) async throws -> ServingCertificates {
        try await Shell.run("bash", [Repository.path("scripts/demo/make-certs.sh"), directory] + names, logDirectory: directory, name: "make-certs")
        return ServingCertificates(directory: directory)
    }
}

/// Runs a short command to completion (openssl, bash) as a child process, off the
/// cooperative pool, and fails with its stderr when it exits non-zero.
public enum Shell {
    public static func run(_ program: String, _ arguments: [String], logDirectory: String, name: String) async throws {
        let executable = program.hasPrefix("/") ? program : try which(program)
        let child = try ChildProcess(name: name, executable: executable, arguments: arguments, logDirectory: logDirectory)
        let code = try await child.waitForExit(timeout: .seconds(60))
        guard code == 0 else { throw ShellError(command: ([program] + arguments).joined(separator: " "), code: code, stderr: child.standardError) }
    }

    /// The first `PATH` entry holding an executable `program`.
    public static func which(_ program: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ShellError(command: program, code: 127, stderr: "not found on PATH")
    }
}

/// A command that failed, with what it printed.
public struct ShellError: Error, CustomStringConvertible {
    public let command: String
    public let code: Int32
    public let stderr: String
    public var description: String { "`\(command)` exited \(code): \(stderr.suffix(2_000))" }
}
