import Dispatch
public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One subprocess under test, with its output in a log file so that a failed run can be read
/// afterwards. Waiting for exit and reading output happen on Dispatch threads, never on the
/// cooperative pool.
public final class ChildProcess: Sendable {
    public let name: String
    public let logFile: String
    /// When the process was started.
    public let startedAt: Date
    private let process: Mutex<Process?>
    private let pidValue: Int32

    /// Starts `executable`; standard output and error go to `logFile` unless `stdoutPipe` is
    /// given, in which case standard output is read by the caller (for a "ready" line).
    public init(name: String, executable: String, arguments: [String], logFile: String, captureStandardOutput: Pipe? = nil) throws {
        self.name = name
        self.logFile = logFile
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = captureStandardOutput ?? handle
        process.standardError = handle
        try process.run()
        startedAt = Date()
        pidValue = process.processIdentifier
        self.process = Mutex(process)
    }

    public var pid: Int32 { pidValue }

    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// `kill -9`: no chance to release a lease or flush anything.
    public func killHard() async {
        await signalAndWait(SIGKILL)
    }

    /// SIGTERM, the graceful stop; SIGKILL after `grace` if it is still running. Returns
    /// false when it had to be killed.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async -> Bool {
        guard isRunning else { return true }
        kill(pidValue, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let graceful = !isRunning
        await signalAndWait(SIGKILL)
        return graceful
    }

    /// The exit status once it has exited (nil while running).
    public var exitStatus: Int32? {
        process.withLock { process in
            guard let process, !process.isRunning else { return nil }
            return process.terminationStatus
        }
    }

    private func signalAndWait(_ signal: Int32) async {
        guard let running = process.withLock({ $0 }) else { return }
        if running.isRunning { kill(pidValue, signal) }
        let box = UncheckedProcess(process: running)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                box.process.waitUntilExit()
                continuation.resume()
            }
        }
    }

    /// The peak resident set size (`VmHWM` in /proc/<pid>/status), in bytes; nil once the
    /// process is gone or where /proc does not exist.
    public func peakResidentBytes() -> Int? {
        Self.statusField("VmHWM", pid: pidValue)
    }

    /// The current resident set size (`VmRSS`), in bytes.
    public func residentBytes() -> Int? {
        Self.statusField("VmRSS", pid: pidValue)
    }

    /// CPU time used so far (user + system, `/proc/<pid>/stat` fields 14 and 15), in seconds;
    /// nil once the process is gone. The benchmark takes it before and after a phase to say
    /// which process spent the CPU.
    public func cpuSeconds() -> Double? {
        Self.cpuSeconds(statPath: "/proc/\(pidValue)/stat")
    }

    /// The same for a `/proc/.../stat` file (`/proc/self/stat` for this process).
    public static func cpuSeconds(statPath: String) -> Double? {
        guard let text = try? String(contentsOfFile: statPath, encoding: .utf8),
            let end = text.lastIndex(of: ")")
        else { return nil }
        // Field 2 (the command) may hold spaces; the fields after its ")" start at field 3.
        let fields = text[text.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func statusField(_ field: String, pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kilobytes = Int(parts[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// The last lines of the log, for failure messages.
    public func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}

/// `Process` is not `Sendable`; it is only handed to one Dispatch thread to wait on it.
private struct UncheckedProcess: @unchecked Sendable {
    let process: Process
}

/// Reads the first line a child writes to the pipe (off the cooperative pool).
func firstLine(of pipe: Pipe) async -> String {
    let handle = pipe.fileHandleForReading
    return await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            var bytes = Data()
            while true {
                let chunk = handle.readData(ofLength: 1)
                if chunk.isEmpty || chunk.first == UInt8(ascii: "\n") { break }
                bytes.append(chunk)
            }
            continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed), for
/// binaries whose listen address must be given before they start.
public func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError.setup("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw HarnessError.setup("bind() failed: errno \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw HarnessError.setup("getsockname() failed: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// What went wrong setting up or running a scenario, naming the part concerned.
public struct HarnessError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case setup(String)
        case notReady(String, String)
        case request(String, String)
    }

    private let kind: Kind

    public static func setup(_ message: String) -> HarnessError { HarnessError(kind: .setup(message)) }
    public static func notReady(_ component: String, detail: String) -> HarnessError { HarnessError(kind: .notReady(component, detail)) }
    public static func request(_ what: String, detail: String) -> HarnessError { HarnessError(kind: .request(what, detail)) }

    public var description: String {
        switch kind {
        case .setup(let message): return "harness setup: \(message)"
        case .notReady(let component, let detail): return "\(component) did not become ready: \(detail)"
        case .request(let what, let detail): return "\(what) failed: \(detail)"
        }
    }
}
