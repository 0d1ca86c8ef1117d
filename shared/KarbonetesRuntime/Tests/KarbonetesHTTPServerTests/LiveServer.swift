import Foundation
import KarbonetesHTTP
import KarbonetesHTTPServer
import KarbonetesLogging
import KarbonetesMetrics
import KarbonetesTLS
import Testing

/// Runs `server` for the duration of `body`, then cancels it (graceful shutdown) and waits.
func withRunning<T: Sendable>(_ server: HTTPServer, _ body: @Sendable (HTTPServer) async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await server.run()
            return nil
        }
        do {
            let result = try await body(server)
            group.cancelAll()
            while try await group.next() != nil {}
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

func makeServer(
    _ handler: some HTTPHandler,
    tls: TLSServerConfiguration? = nil,
    limits: HTTPServerLimits = HTTPServerLimits(),
    timeouts: HTTPServerTimeouts = HTTPServerTimeouts(shutdownGrace: .seconds(2)),
    maxConnections: Int = 256,
    metrics: MetricsRegistry? = nil
) throws -> HTTPServer {
    try HTTPServer(
        configuration: HTTPServerConfiguration(
            host: "127.0.0.1",
            port: 0,
            tls: tls,
            limits: limits,
            timeouts: timeouts,
            maxConnections: maxConnections
        ),
        handler: handler,
        logger: .disabled,
        metrics: metrics
    )
}

/// What a raw connection saw: the bytes the server sent and whether it then closed.
struct RawOutcome: Sendable {
    var text: String
    var closed: Bool
    var statusCode: Int? {
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}

/// Connects, sends `payloads` with `pause` between them, and reads until the server closes or
/// `wait` passes. Runs on an I/O thread, never the cooperative pool.
func rawExchange(port: Int, _ payloads: [[UInt8]], pause: Duration = .zero, wait: Duration = .seconds(5)) async throws -> RawOutcome {
    try await IOThreadPool.shared.run {
        let socket = try Socket.connect(host: "127.0.0.1", port: port, deadline: .after(.seconds(2)))
        defer { socket.close() }
        for payload in payloads {
            do {
                try socket.write(payload, deadline: .after(.seconds(2)))
            } catch {
                break
            }
            if pause > .zero { Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18) }
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let deadline = Deadline.after(wait)
        while true {
            let count: Int
            do {
                count = try buffer.withUnsafeMutableBytes { try socket.read(into: $0, deadline: deadline) }
            } catch {
                return RawOutcome(text: String(decoding: received, as: UTF8.self), closed: false)
            }
            if count == 0 { return RawOutcome(text: String(decoding: received, as: UTF8.self), closed: true) }
            received.append(contentsOf: buffer[0..<count])
        }
    }
}

func rawExchange(port: Int, _ text: String, wait: Duration = .seconds(5)) async throws -> RawOutcome {
    try await rawExchange(port: port, [Array(text.utf8)], wait: wait)
}

struct ProcessOutcome: Sendable {
    var status: Int32
    var output: String
    var error: String
}

/// Runs a command (curl) without blocking a cooperative thread: the exit is awaited through
/// the termination handler, and the output goes through files so no pipe fills up.
func runProcess(_ executable: String, _ arguments: [String]) async throws -> ProcessOutcome {
    let directory = FileManager.default.temporaryDirectory
    let outputURL = directory.appendingPathComponent("out-\(UUID().uuidString)")
    let errorURL = directory.appendingPathComponent("err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outputURL)
        try? FileManager.default.removeItem(at: errorURL)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: outputURL)
    process.standardError = try FileHandle(forWritingTo: errorURL)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return ProcessOutcome(
        status: status,
        output: (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
        error: (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
    )
}

let curlPath = "/usr/bin/curl"

/// The echo handler most tests use: `/echo` answers the body back, `/slow` waits first,
/// `/stream` sends lines in odd-sized chunks.
func testRouter() -> Router {
    var router = Router()
    router.add(.post, "/echo") { request in
        HTTPResponse(status: .ok, headers: ["Content-Type": request.headers["Content-Type"] ?? "application/octet-stream"], body: .bytes(request.body))
    }
    router.add(.get, "/hello") { request in .text("hello \(request.query("name") ?? "world")\n") }
    router.add(.get, "/peer") { request in .text(request.remoteAddress ?? "") }
    router.add(.get, "/slow") { request in
        let milliseconds = Int(request.query("ms") ?? "300") ?? 300
        try? await Task.sleep(for: .milliseconds(milliseconds))
        return .text("slow done")
    }
    router.add(.get, "/auth") { request in .text(request.headers["Authorization"] ?? "none") }
    return router
}
