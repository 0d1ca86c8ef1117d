import Foundation
import KarbonetesHTTP
@testable import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Synchronization
import Testing

/// Runs `server` for the duration of `body`, then cancels it (graceful shutdown) and waits.
private func withServer<T: Sendable>(
    _ handler: some HTTPHandler,
    tls: TLSServerConfiguration? = nil,
    timeouts: HTTPServerTimeouts = HTTPServerTimeouts(shutdownGrace: .seconds(1)),
    _ body: @Sendable (Int) async throws -> T
) async throws -> T {
    let server = try HTTPServer(
        configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, tls: tls, timeouts: timeouts),
        handler: handler
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await server.run()
            return nil
        }
        defer { group.cancelAll() }
        return try await body(server.port)
    }
}

private func client(_ port: Int, scheme: String = "http", host: String = "127.0.0.1", tls: TLSClientConfiguration? = nil,
                    authorization: HTTPAuthorization? = nil, maxLineLength: Int = 1024) throws -> HTTPClient {
    try HTTPClient(
        configuration: HTTPClientConfiguration(
            baseURL: URL(string: "\(scheme)://\(host):\(port)")!,
            tls: tls,
            authorization: authorization,
            connectTimeout: .seconds(2),
            requestTimeout: .seconds(5),
            maxLineLength: maxLineLength
        )
    )
}

/// Hands out pieces one at a time, so that a stream can be built by unfolding without a task.
private final class PieceCursor: Sendable {
    private let pieces: [String]
    private let position = Mutex(0)

    init(_ pieces: [String]) { self.pieces = pieces }

    func next() -> String? {
        position.withLock { index in
            guard index < pieces.count else { return nil }
            defer { index += 1 }
            return pieces[index]
        }
    }
}

/// A handler that streams the given pieces as separate chunks, each after a short pause so that
/// they arrive as separate reads.
private func streaming(_ pieces: [String]) -> Router {
    var router = Router()
    router.add(.get, "/watch") { _ in
        let cursor = PieceCursor(pieces)
        let stream = AsyncStream<Data> {
            guard let piece = cursor.next() else { return nil }
            try? await Task.sleep(for: .milliseconds(5))
            return Data(piece.utf8)
        }
        return HTTPResponse(headers: ["Content-Type": "application/json"], body: .stream(stream))
    }
    router.add(.get, "/auth") { request in .text(request.headers["Authorization"] ?? "none") }
    router.add(.get, "/query") { request in .text(request.queryItems.map { "\($0.name)=\($0.value)" }.joined(separator: "|")) }
    router.add(.get, "/peer") { request in .text(request.remoteAddress ?? "") }
    router.add(.get, "/slow") { _ in
        try? await Task.sleep(for: .milliseconds(1_500))
        return .text("late")
    }
    router.add(.post, "/echo") { request in .jsonData(request.body) }
    return router
}

@Suite("Line splitting")
struct LineSplitterTests {
    struct SplitCase: Sendable, CustomStringConvertible {
        var description: String
        var pieces: [String]
        var wantLines: [String]
    }

    @Test("splits lines across and within pieces, and keeps a last line without a newline", arguments: [
        SplitCase(description: "one line per piece", pieces: ["a\n", "b\n"], wantLines: ["a", "b"]),
        SplitCase(description: "a line over three pieces", pieces: ["{\"ty", "pe\":\"AD", "DED\"}\n"], wantLines: [#"{"type":"ADDED"}"#]),
        SplitCase(description: "many lines in one piece", pieces: ["a\nb\r\n\nc\n"], wantLines: ["a", "b", "", "c"]),
        SplitCase(description: "last line without newline", pieces: ["a\nb", "c"], wantLines: ["a", "bc"]),
        SplitCase(description: "nothing", pieces: [], wantLines: []),
        SplitCase(description: "CRLF split between pieces", pieces: ["a\r", "\nb\n"], wantLines: ["a", "b"]),
    ])
    func splits(testCase: SplitCase) throws {
        var splitter = LineSplitter(maxLineLength: 100)
        var lines: [String] = []
        for piece in testCase.pieces {
            lines += try splitter.append(Data(piece.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
        if let last = splitter.finish() { lines.append(String(decoding: last, as: UTF8.self)) }
        #expect(lines == testCase.wantLines)
    }

    @Test("splits a piece that is a slice of a larger buffer by its own bytes")
    func slicedPiece() throws {
        let buffer = Data("xx\nab\ncd\nyy".utf8)
        var splitter = LineSplitter(maxLineLength: 100)
        let lines = try splitter.append(buffer[3..<8]).map { String(decoding: $0, as: UTF8.self) }
        #expect(lines == ["ab"])
        #expect(splitter.finish().map { String(decoding: $0, as: UTF8.self) } == "cd")
    }

    @Test("returns the lines before one over the cap, finished or not, then refuses instead of buffering it")
    func cap() throws {
        var finished = LineSplitter(maxLineLength: 4)
        #expect(try finished.append(Data("ok\nabcdefgh\nlater\n".utf8)) == [Data("ok".utf8)])
        #expect(finished.overflowed)
        #expect(throws: LineSplitter.LineTooLong.self) { try finished.append(Data("x\n".utf8)) }
        var unfinished = LineSplitter(maxLineLength: 4)
        #expect(try unfinished.append(Data("abc".utf8)).isEmpty)
        #expect(!unfinished.overflowed)
        #expect(try unfinished.append(Data("def".utf8)).isEmpty)
        #expect(unfinished.overflowed)
    }
}

@Suite("HTTP client against a live server", .serialized)
struct HTTPClientTests {
    @Test("delivers a watch line by line whatever the chunking, including a last line without newline")
    func streamsLines() async throws {
        let pieces = ["{\"type\":\"ADDED\",", "\"n\":1}\n{\"type\":\"MOD", "IFIED\",\"n\":2}\n{\"n\":3}\n{\"n\"", ":4}"]
        try await withServer(streaming(pieces)) { port in
            let response = try await client(port).stream(HTTPClientRequest(path: "/watch", query: [("watch", "true")]))
            #expect(response.status == 200)
            var lines: [String] = []
            for try await line in response.lines { lines.append(String(decoding: line, as: UTF8.self)) }
            #expect(lines == [#"{"type":"ADDED","n":1}"#, #"{"type":"MODIFIED","n":2}"#, #"{"n":3}"#, #"{"n":4}"#])
        }
    }

    @Test("ends the stream with an error when a line exceeds the cap")
    func lineCap() async throws {
        try await withServer(streaming(["short\n", String(repeating: "x", count: 5_000), "\n"])) { port in
            let response = try await client(port, maxLineLength: 1_000).stream(HTTPClientRequest(path: "/watch"))
            var lines: [String] = []
            let error = await #expect(throws: HTTPClientError.self) {
                for try await line in response.lines { lines.append(String(decoding: line, as: UTF8.self)) }
            }
            #expect(lines == ["short"])
            #expect(error?.description.contains("longer than 1000 bytes") == true)
        }
    }

    @Test("re-reads a bearer token file when it changes")
    func tokenFile() async throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try Data("first-token\n".utf8).write(to: tokenFile)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        try await withServer(streaming([])) { port in
            let http = try client(port, authorization: .bearerTokenFile(tokenFile.path))
            #expect(String(decoding: try await http.execute(HTTPClientRequest(path: "/auth")).body, as: UTF8.self) == "Bearer first-token")
            try Data("second-token-longer".utf8).write(to: tokenFile)
            #expect(String(decoding: try await http.execute(HTTPClientRequest(path: "/auth")).body, as: UTF8.self) == "Bearer second-token-longer")
            let basic = try client(port, authorization: .basic(username: "a", password: "b"))
            #expect(String(decoding: try await basic.execute(HTTPClientRequest(path: "/auth")).body, as: UTF8.self) == "Basic YTpi")
        }
    }

    @Test("escapes query names and values so that the server reads them back unchanged")
    func queryEscaping() async throws {
        try await withServer(streaming([])) { port in
            let response = try await client(port).execute(
                HTTPClientRequest(path: "/query", query: [("labelSelector", "app=a b,tier!=x&y"), ("ünï", "+%")])
            )
            #expect(String(decoding: response.body, as: UTF8.self) == "labelSelector=app=a b,tier!=x&y|ünï=+%")
        }
    }

    @Test("reuses one kept-alive connection, and retries once when the server closed it while idle")
    func pooling() async throws {
        try await withServer(streaming([]), timeouts: HTTPServerTimeouts(idle: .milliseconds(200), shutdownGrace: .seconds(1))) { port in
            let http = try client(port)
            let first = try await http.execute(HTTPClientRequest(path: "/peer")).body
            let second = try await http.execute(HTTPClientRequest(path: "/peer")).body
            #expect(first == second)
            try await Task.sleep(for: .milliseconds(400))
            let afterIdle = try await http.execute(HTTPClientRequest(path: "/peer"))
            #expect(afterIdle.status == 200)
            #expect(afterIdle.body != first)
            let echoed = try await http.execute(HTTPClientRequest(method: .post, path: "/echo", body: Data(#"{"ok":true}"#.utf8)))
            #expect(echoed.headers["Content-Type"] == "application/json")
            #expect(echoed.body == Data(#"{"ok":true}"#.utf8))
        }
    }

    @Test("times out a slow request and reports a refused connection, naming host and port")
    func failures() async throws {
        try await withServer(streaming([])) { port in
            let error = await #expect(throws: HTTPClientError.self) {
                try await client(port).execute(HTTPClientRequest(path: "/slow", timeout: .milliseconds(200)))
            }
            #expect(error?.isTimeout == true)
            #expect(error?.description.contains("127.0.0.1:\(port)") == true)
        }
        let (listener, freePort) = try Socket.listen(host: "127.0.0.1", port: 0)
        listener.close()
        let refused = await #expect(throws: HTTPClientError.self) {
            try await client(freePort).execute(HTTPClientRequest(path: "/"))
        }
        #expect(refused?.isConnectFailure == true)
    }

    struct TrustCase: Sendable, CustomStringConvertible {
        var description: String
        var host: String
        var trustsCA: Bool
        var serverName: String?
        var insecure: Bool
        var wantSuccess: Bool
    }

    @Test("verifies the server over HTTPS with the cluster CA, its name and SNI, unless told to skip", arguments: [
        TrustCase(description: "trusted CA and name", host: "localhost", trustsCA: true, serverName: nil, insecure: false, wantSuccess: true),
        TrustCase(description: "IP address in the SANs", host: "127.0.0.1", trustsCA: true, serverName: nil, insecure: false, wantSuccess: true),
        TrustCase(description: "unknown CA", host: "localhost", trustsCA: false, serverName: nil, insecure: false, wantSuccess: false),
        TrustCase(description: "name mismatch", host: "127.0.0.1", trustsCA: true, serverName: "kubernetes.default.svc", insecure: false, wantSuccess: false),
        TrustCase(description: "insecure-skip-tls-verify", host: "127.0.0.1", trustsCA: false, serverName: "other", insecure: true, wantSuccess: true),
    ])
    func https(testCase: TrustCase) async throws {
        let certificates = try TestCertificates.make()
        let stranger = try TestCertificates.make()
        defer {
            certificates.remove()
            stranger.remove()
        }
        let tls = TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile)
        try await withServer(streaming(["a\nb\n"]), tls: tls) { port in
            let http = try client(
                port,
                scheme: "https",
                host: testCase.host,
                tls: TLSClientConfiguration(
                    trustRoots: .pem(.data(testCase.trustsCA ? certificates.caCertificatePEM : stranger.caCertificatePEM)),
                    serverName: testCase.serverName,
                    insecureSkipVerify: testCase.insecure
                )
            )
            if testCase.wantSuccess {
                let response = try await http.stream(HTTPClientRequest(path: "/watch"))
                var lines: [Data] = []
                for try await line in response.lines { lines.append(line) }
                #expect(lines == [Data("a".utf8), Data("b".utf8)])
            } else {
                let error = await #expect(throws: HTTPClientError.self) { try await http.execute(HTTPClientRequest(path: "/auth")) }
                #expect(error?.isTLSHandshakeFailure == true, "\(String(describing: error))")
            }
        }
    }

    @Test("stops reading a watch and closes its connection when the loop ends early")
    func earlyExit() async throws {
        let pieces = (0..<200).map { "{\"n\":\($0)}\n" }
        try await withServer(streaming(pieces)) { port in
            let http = try client(port)
            let response = try await http.stream(HTTPClientRequest(path: "/watch"))
            var count = 0
            for try await _ in response.lines {
                count += 1
                if count == 3 { break }
            }
            #expect(count == 3)
            // The client still works for other requests after the abandoned watch.
            #expect(try await http.execute(HTTPClientRequest(path: "/auth")).status == 200)
        }
    }
}
