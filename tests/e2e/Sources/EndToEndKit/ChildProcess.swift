public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One executable under test, started in its own process group with its stdout and stderr in
/// files, so that a scenario can read what it printed and kill it and everything it started
/// with one signal, and so that nothing outlives the scenario: the process group is killed
/// when the value goes away, whether the scenario passed or threw.
public final class ChildProcess: Sendable, CustomStringConvertible {
    /// The short name the scenario knows it by (`devapi`, `webhook-1`).
    public let name: String
    public let pid: pid_t
    public let stdoutFile: String
    public let stderrFile: String
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; `environment` entries are added to (or replace)
    /// this process's environment.
    public init(
        name: String, executable: String, arguments: [String], environment: [String: String] = [:], logDirectory: String
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ChildProcessError.notExecutable(name: name, path: executable)
        }
        self.name = name
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        stdoutFile = logDirectory + "/\(name).stdout.log"
        stderrFile = logDirectory + "/\(name).stderr.log"

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, default dispositions for the signals tests send, and an
        // empty mask: whatever the test runner ignores or blocks, the child does not.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutFile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrFile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)

        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var spawned: pid_t = 0
        let result = posix_spawn(&spawned, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw ChildProcessError.spawnFailed(name: name, path: executable, errno: result) }
        pid = spawned
        ProcessRegistry.shared.record(self)
    }

    deinit {
        if !hasExited {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        ProcessRegistry.shared.forget(pid)
    }

    public var description: String { "\(name) (pid \(pid))" }

    /// Reaps the child if it has exited; true once it has.
    public var hasExited: Bool {
        if exitStatus.withLock({ $0 }) != nil { return true }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        guard reaped == pid else { return reaped < 0 }
        exitStatus.withLock { $0 = status }
        return true
    }

    /// The exit code (128 + signal number when a signal ended it), once exited.
    public var exitCode: Int32? {
        guard hasExited, let status = exitStatus.withLock({ $0 }) else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Sends `signal` to the whole process group.
    public func send(_ signal: Int32) {
        guard !hasExited else { return }
        kill(-pid, signal)
    }

    /// `kill -9`: the process gets no chance to finish what it was doing.
    public func killHard() async {
        send(SIGKILL)
        _ = try? await waitForExit(timeout: .seconds(5))
    }

    /// SIGTERM, then the exit code; SIGKILL after `timeout` (and `nil`).
    @discardableResult
    public func terminate(timeout: Duration = .seconds(10)) async -> Int32? {
        send(SIGTERM)
        if let code = try? await waitForExit(timeout: timeout) { return code }
        await killHard()
        return nil
    }

    /// Polls (every 20 ms, never blocking a thread) until the child exits.
    public func waitForExit(timeout: Duration) async throws -> Int32 {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while clock.now < end {
            if let code = exitCode { return code }
            try await Task.sleep(for: .milliseconds(20))
        }
        if let code = exitCode { return code }
        throw ChildProcessError.stillRunning(name: name, pid: pid, after: timeout)
    }

    public var standardOutput: String { (try? String(contentsOfFile: stdoutFile, encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? "" }

    /// The last lines of stderr (the JSON logs), for a failing scenario's message.
    public func logTail(lines: Int = 30) -> String {
        let all = standardError.split(separator: "\n", omittingEmptySubsequences: true)
        return "--- \(self) stderr (last \(min(lines, all.count)) of \(all.count) lines):\n"
            + all.suffix(lines).joined(separator: "\n")
    }
}

/// Every child this test process started, written to the file `KARBONETES_E2E_PIDFILE` names
/// (one process group id a line), so that `make test-e2e` can kill what a crashed test
/// runner left behind; a child that ended normally is removed from it.
final class ProcessRegistry: Sendable {
    static let shared = ProcessRegistry(file: ProcessInfo.processInfo.environment["KARBONETES_E2E_PIDFILE"])

    private let file: String?
    private let live = Mutex<Set<pid_t>>([])

    init(file: String?) { self.file = file }

    func record(_ child: ChildProcess) {
        let snapshot = live.withLock {
            $0.insert(child.pid); return $0
        }
        write(snapshot)
    }

    func forget(_ pid: pid_t) {
        let snapshot = live.withLock {
            $0.remove(pid); return $0
        }
        write(snapshot)
    }

    private func write(_ pids: Set<pid_t>) {
        guard let file else { return }
        let text = pids.sorted().map { "\($0)\n" }.joined()
        try? text.write(toFile: file, atomically: true, encoding: .utf8)
    }
}

/// Why a child could not be started or did not stop, naming it.
public struct ChildProcessError: Error, CustomStringConvertible {
    private enum Kind {
        case notExecutable(name: String, path: String)
        case spawnFailed(name: String, path: String, errno: Int32)
        case stillRunning(name: String, pid: pid_t, after: Duration)
    }

    private let kind: Kind

    static func notExecutable(name: String, path: String) -> ChildProcessError {
        ChildProcessError(kind: .notExecutable(name: name, path: path))
    }
    static func spawnFailed(name: String, path: String, errno: Int32) -> ChildProcessError {
        ChildProcessError(kind: .spawnFailed(name: name, path: path, errno: errno))
    }
    static func stillRunning(name: String, pid: pid_t, after: Duration) -> ChildProcessError {
        ChildProcessError(kind: .stillRunning(name: name, pid: pid, after: after))
    }

    public var description: String {
        switch kind {
        case .notExecutable(let name, let path):
            return "\(name): \(path) is not an executable file (run `make test-e2e`, which builds the binaries first)"
        case .spawnFailed(let name, let path, let errno):
            return "\(name): cannot start \(path): \(String(cString: strerror(errno)))"
        case .stillRunning(let name, let pid, let after):
            return "\(name) (pid \(pid)) is still running after \(after)"
        }
    }
}
