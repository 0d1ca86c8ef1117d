import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesMetrics
import KarbonetesTLS
import Synchronization
import Testing

@Suite("HTTP server over loopback", .serialized)
struct HTTPServerTests {
    @Test("answers the runtime's client over keep-alive, one connection for many requests")
    func keepAlive() async throws {
        let server = try makeServer(testRouter())
        try await withRunning(server) { server in
            let client = try HTTPClient(configuration: HTTPClientConfiguration(baseURL: URL(string: "http://127.0.0.1:\(server.port)")!))
            var peers = Set<String>()
            for index in 0..<20 {
                let response = try await client.execute(HTTPClientRequest(method: .post, path: "/echo", body: Data("{\"n\":\(index)}".utf8)))
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "{\"n\":\(index)}")
                peers.insert(String(decoding: try await client.execute(HTTPClientRequest(path: "/peer")).body, as: UTF8.self))
            }
            #expect(peers.count == 1)
            await client.shutdown()
        }
    }

    struct LimitCase: Sendable, CustomStringConvertible {
        var description: String
        var curlArguments: [String]
        var wantStatus: String
    }

    @Test("answers oversize input from curl with 414, 431 and 413", arguments: [
        LimitCase(description: "long URL", curlArguments: ["/hello?x=" + String(repeating: "a", count: 2_000)], wantStatus: "414"),
        LimitCase(description: "big header", curlArguments: ["-H", "X-Big: " + String(repeating: "b", count: 5_000), "/hello"], wantStatus: "431"),
        LimitCase(description: "big body", curlArguments: ["--data-binary", "@BIGFILE", "/echo"], wantStatus: "413"),
        LimitCase(description: "within limits", curlArguments: ["-d", "{}", "/echo"], wantStatus: "200"),
    ])
    func limitsWithCurl(testCase: LimitCase) async throws {
        let bigFile = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString)")
        try Data(repeating: UInt8(ascii: "z"), count: 100_000).write(to: bigFile)
        defer { try? FileManager.default.removeItem(at: bigFile) }
        let server = try makeServer(testRouter(), limits: HTTPServerLimits(requestLineBytes: 1_024, headerBytes: 4_096, bodyBytes: 10_000))
        try await withRunning(server) { server in
            var arguments = testCase.curlArguments.map { $0.replacingOccurrences(of: "BIGFILE", with: bigFile.path) }
            let path = arguments.removeLast()
            let outcome = try await runProcess(
                curlPath,
                ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + arguments + ["http://127.0.0.1:\(server.port)\(path)"]
            )
            #expect(outcome.output == testCase.wantStatus, "\(outcome.error)")
        }
    }

    @Test("closes the connection after a limit or a malformed request", arguments: [
        ("GET /\(String(repeating: "a", count: 2_000)) HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nHost: x\r\nX: \(String(repeating: "b", count: 5_000))\r\n\r\n", 431),
        ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n", 413),
        ("NOT HTTP AT ALL\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br\r\n\r\n", 501),
    ])
    func closesAfterErrors(raw: String, wantStatus: Int) async throws {
        let server = try makeServer(testRouter(), limits: HTTPServerLimits(requestLineBytes: 1_024, headerBytes: 4_096, bodyBytes: 10_000))
        try await withRunning(server) { server in
            let outcome = try await rawExchange(port: server.port, raw + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(outcome.statusCode == wantStatus)
            #expect(outcome.closed)
            #expect(outcome.text.contains("Connection: close"))
            #expect(!outcome.text.contains("hello world"))
        }
    }

    @Test("answers pipelined requests in order, keeps HTTP/1.0 alive only when asked, and closes after the last")
    func pipeliningAndHTTP10() async throws {
        let server = try makeServer(testRouter())
        try await withRunning(server) { server in
            let raw = "GET /hello?name=one HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?name=two HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                + "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?name=three HTTP/1.0\r\n\r\nGET /hello?name=never HTTP/1.1\r\nHost: x\r\n\r\n"
            let outcome = try await rawExchange(port: server.port, raw)
            #expect(outcome.closed)
            let bodies = outcome.text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.prefix { $0 != "\r" && $0 != "H" } }
            #expect(bodies.filter { $0.hasPrefix("hello") } == ["hello one\n", "hello two\n", "hello three\n"])
            #expect(outcome.text.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == 4)
            #expect(outcome.text.components(separatedBy: "Connection: keep-alive").count - 1 == 1)
            #expect(!outcome.text.contains("never"))
        }
    }

    @Test("closes an idle connection after the idle timeout and a slowloris one after the read timeout")
    func slowClients() async throws {
        let server = try makeServer(
            testRouter(),
            timeouts: HTTPServerTimeouts(read: .milliseconds(600), idle: .milliseconds(300), write: .seconds(1), shutdownGrace: .seconds(1))
        )
        try await withRunning(server) { server in
            let started = ContinuousClock.now
            let idle = try await rawExchange(port: server.port, [], wait: .seconds(3))
            #expect(idle.closed && idle.text.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(2))

            // One byte every 100 ms: each arrives well within the idle timeout, yet the request
            // never completes, so the read timeout ends it with a 408.
            let dribble = Array("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 30)
            let slowStarted = ContinuousClock.now
            let slow = try await rawExchange(port: server.port, dribble.map { [$0] }, pause: .milliseconds(100), wait: .seconds(3))
            #expect(slow.statusCode == 408)
            #expect(ContinuousClock.now - slowStarted < .seconds(5))

            let stillServing = try await rawExchange(port: server.port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(stillServing.statusCode == 200)
        }
    }

    @Test("closes connections over maxConnections at once and accepts again when one closes")
    func maxConnections() async throws {
        let server = try makeServer(testRouter(), timeouts: HTTPServerTimeouts(idle: .seconds(3), shutdownGrace: .milliseconds(500)), maxConnections: 2)
        try await withRunning(server) { server in
            let port = server.port
            let held = try await IOThreadPool.shared.run {
                try (0..<2).map { _ in try Socket.connect(host: "127.0.0.1", port: port, deadline: .after(.seconds(1))) }
            }
            try await Task.sleep(for: .milliseconds(100))
            let refused = try await rawExchange(port: port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", wait: .seconds(2))
            #expect(refused.closed && refused.text.isEmpty)
            for socket in held { socket.close() }
            try await Task.sleep(for: .milliseconds(100))
            let accepted = try await rawExchange(port: port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(accepted.statusCode == 200)
        }
    }

    @Test("answers 100 Continue and then the request when curl sends Expect")
    func expectContinue() async throws {
        let server = try makeServer(testRouter())
        try await withRunning(server) { server in
            let outcome = try await runProcess(
                curlPath,
                ["-s", "-v", "-H", "Expect: 100-continue", "--data-binary", "payload", "http://127.0.0.1:\(server.port)/echo"]
            )
            #expect(outcome.output == "payload")
            #expect(outcome.error.contains("100 Continue"))
        }
    }

    @Test("streams a chunked response, and stops the producer when the client goes away")
    func streaming() async throws {
        let stopped = Atomic<Bool>(false)
        var router = Router()
        router.add(.get, "/watch") { _ in
            let (stream, continuation) = AsyncStream<Data>.makeStream()
            continuation.onTermination = { _ in stopped.store(true, ordering: .releasing) }
            continuation.yield(Data("{\"type\":\"ADDED\"}\n{\"ty".utf8))
            continuation.yield(Data("pe\":\"MODIFIED\"}\n".utf8))
            return HTTPResponse(headers: ["Content-Type": "application/json"], body: .stream(stream))
        }
        let server = try makeServer(router)
        try await withRunning(server) { server in
            let client = try HTTPClient(configuration: HTTPClientConfiguration(baseURL: URL(string: "http://127.0.0.1:\(server.port)")!))
            let response = try await client.stream(HTTPClientRequest(path: "/watch"))
            #expect(response.status == 200)
            #expect(response.headers["Transfer-Encoding"] == "chunked")
            var lines: [String] = []
            for try await line in response.lines {
                lines.append(String(decoding: line, as: UTF8.self))
                if lines.count == 2 { break }
            }
            #expect(lines == [#"{"type":"ADDED"}"#, #"{"type":"MODIFIED"}"#])
            let deadline = ContinuousClock.now + .seconds(3)
            while !stopped.load(ordering: .acquiring) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let producerStopped = stopped.load(ordering: .acquiring)
            #expect(producerStopped)
        }
    }

    @Test("drains on cancellation: finishes the in-flight request with Connection: close, then returns")
    func gracefulShutdown() async throws {
        let server = try makeServer(testRouter(), timeouts: HTTPServerTimeouts(shutdownGrace: .seconds(3)))
        let port = server.port
        let outcome = try await withThrowingTaskGroup(of: RawOutcome?.self) { group in
            group.addTask {
                try await server.run()
                return nil
            }
            group.addTask { try await rawExchange(port: port, "GET /slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n") }
            try await Task.sleep(for: .milliseconds(150))
            let cancelled = ContinuousClock.now
            group.cancelAll()
            var outcome: RawOutcome?
            while let next = try await group.next() {
                if let next { outcome = next }
            }
            #expect(ContinuousClock.now - cancelled < .seconds(2))
            return outcome
        }
        #expect(outcome?.statusCode == 200)
        #expect(outcome?.text.contains("slow done") == true)
        #expect(outcome?.text.contains("Connection: close") == true)
        #expect(outcome?.closed == true)
        // The port is closed: nothing accepts any more.
        await #expect(throws: (any Error).self) { try await rawExchange(port: port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") }
    }

    @Test("ends an endless streamed response at shutdown, so a watch does not hold the drain")
    func shutdownEndsStreams() async throws {
        var router = Router()
        router.add(.get, "/watch") { _ in
            // Yields one line and then nothing, like a quiet watch.
            let (stream, continuation) = AsyncStream<Data>.makeStream()
            continuation.yield(Data("{\"type\":\"BOOKMARK\"}\n".utf8))
            return HTTPResponse(body: .stream(stream))
        }
        let server = try makeServer(router, timeouts: HTTPServerTimeouts(shutdownGrace: .seconds(5)))
        // Its own task, so that only the server is cancelled and the watch keeps reading.
        let serverTask = Task { try await server.run() }
        let client = try HTTPClient(configuration: HTTPClientConfiguration(baseURL: URL(string: "http://127.0.0.1:\(server.port)")!))
        let response = try await client.stream(HTTPClientRequest(path: "/watch"))
        try await Task.sleep(for: .milliseconds(200))
        let cancelled = ContinuousClock.now
        serverTask.cancel()
        var lines: [String] = []
        for try await line in response.lines { lines.append(String(decoding: line, as: UTF8.self)) }
        try await serverTask.value
        // Well within the 5 s grace period: the server ended the stream, it did not cut it.
        #expect(ContinuousClock.now - cancelled < .seconds(2))
        #expect(lines == [#"{"type":"BOOKMARK"}"#])
    }

    @Test("drops a client that does not read a fast stream instead of buffering without bound")
    func slowReader() async throws {
        let stopped = Atomic<Bool>(false)
        let produced = Atomic<Int>(0)
        var router = Router()
        router.add(.get, "/flood") { _ in
            let megabyte = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
            let stream = AsyncStream<Data> {
                // 64 MiB at most, far over the 8 MiB a slow client may have queued.
                guard produced.add(1, ordering: .relaxed).newValue <= 64 else { return nil }
                return megabyte
            } onCancel: {
                stopped.store(true, ordering: .releasing)
            }
            return HTTPResponse(body: .stream(stream))
        }
        let server = try makeServer(router, timeouts: HTTPServerTimeouts(write: .milliseconds(500), shutdownGrace: .seconds(1)))
        try await withRunning(server) { server in
            let port = server.port
            // Sends the request and then reads nothing for two seconds.
            let socket = try await IOThreadPool.shared.run {
                let socket = try Socket.connect(host: "127.0.0.1", port: port, deadline: .after(.seconds(1)))
                try socket.write(Array("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n".utf8), deadline: .after(.seconds(1)))
                return socket
            }
            try await Task.sleep(for: .seconds(2))
            let producerStopped = stopped.load(ordering: .acquiring)
            let chunks = produced.load(ordering: .relaxed)
            #expect(producerStopped, "the stream was not stopped after \(chunks) MiB")
            #expect(chunks < 64)
            socket.close()
        }
    }

    @Test("counts requests and open connections and serves them at /metrics, with health checks")
    func metricsAndHealth() async throws {
        let registry = MetricsRegistry()
        var router = testRouter()
        let ready = Atomic<Bool>(false)
        router.addHealthChecks { ready.load(ordering: .acquiring) }
        router.addMetrics(registry)
        let server = try makeServer(router, metrics: registry)
        try await withRunning(server) { server in
            let client = try HTTPClient(configuration: HTTPClientConfiguration(baseURL: URL(string: "http://127.0.0.1:\(server.port)")!))
            #expect(try await client.execute(HTTPClientRequest(path: "/healthz")).status == 200)
            #expect(try await client.execute(HTTPClientRequest(path: "/readyz")).status == 503)
            ready.store(true, ordering: .releasing)
            #expect(try await client.execute(HTTPClientRequest(path: "/readyz")).status == 200)
            #expect(try await client.execute(HTTPClientRequest(path: "/missing")).status == 404)
            let text = String(decoding: try await client.execute(HTTPClientRequest(path: "/metrics")).body, as: UTF8.self)
            #expect(text.contains(#"http_server_requests_total{method="GET",code="200"} 2"#), "\(text)")
            #expect(text.contains(#"http_server_requests_total{method="GET",code="503"} 1"#))
            #expect(text.contains(#"http_server_requests_total{method="GET",code="404"} 1"#))
            #expect(text.contains("http_server_open_connections 1"))
            await client.shutdown()
        }
    }
}
