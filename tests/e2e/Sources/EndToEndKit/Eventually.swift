import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Polling for what the processes under test do asynchronously: a scenario waits for a
/// state, never for a fixed time, so it is as fast as the services and fails with what it
/// was waiting for.
public enum Eventually {
    /// Polls `probe` every `interval` until it returns a value; throws after `timeout`, or at
    /// once when `process` (the one expected to produce the value) has exited.
    public static func value<Value>(
        _ what: String, timeout: Duration, interval: Duration = .milliseconds(100), process: ChildProcess? = nil,
        _ probe: () async throws -> Value?
    ) async throws -> Value {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        var lastError: (any Error)?
        while true {
            do {
                if let value = try await probe() { return value }
                lastError = nil
            } catch {
                lastError = error
            }
            if let process, let code = process.exitCode {
                throw EndToEndError.timedOut("\(what): \(process) exited with \(code)\n\(process.logTail())")
            }
            guard clock.now < end else {
                throw EndToEndError.timedOut(
                    "\(what) (waited \(timeout))" + (lastError.map { "; last error: \($0)" } ?? ""))
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Polls until `condition` holds.
    public static func check(
        _ what: String, timeout: Duration, interval: Duration = .milliseconds(100), process: ChildProcess? = nil,
        _ condition: () async throws -> Bool
    ) async throws {
        _ = try await value(what, timeout: timeout, interval: interval, process: process) {
            try await condition() ? true : nil
        }
    }
}

/// A loopback TCP port nothing listens on right now, for the services whose flags take a
/// port (the kernel picks it; the short window before the service binds it is accepted).
public enum FreePort {
    public static func next() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw EndToEndError.unexpected("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else { throw EndToEndError.unexpected("bind(127.0.0.1:0) failed: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw EndToEndError.unexpected("getsockname failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Why a scenario could not go on.
public struct EndToEndError: Error, CustomStringConvertible {
    private enum Kind {
        case timedOut(String)
        case unexpected(String)
        case missingTool(String)
    }

    private let kind: Kind

    /// Waited for `what` in vain.
    public static func timedOut(_ what: String) -> EndToEndError { EndToEndError(kind: .timedOut(what)) }
    public static func unexpected(_ what: String) -> EndToEndError { EndToEndError(kind: .unexpected(what)) }
    public static func missingTool(_ what: String) -> EndToEndError { EndToEndError(kind: .missingTool(what)) }

    public var description: String {
        switch kind {
        case .timedOut(let what): return "timed out waiting for \(what)"
        case .unexpected(let what): return what
        case .missingTool(let what): return "missing: \(what)"
        }
    }
}
