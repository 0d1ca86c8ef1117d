import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KarbonetesHTTP
import KarbonetesHTTPServer
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Testing

/// Generates malformed and truncated requests from valid ones, deterministically (a seeded
/// generator), so that a failure can be reproduced.
struct HostileRequests {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    private mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }

    private mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    static let templates: [String] = [
        "GET /hello?name=x HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2,3]}",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
    ]

    mutating func make() -> [UInt8] {
        var bytes = Array(Self.templates[below(Self.templates.count)].utf8)
        switch below(8) {
        case 0:
            // Truncated anywhere.
            bytes = Array(bytes.prefix(below(bytes.count)))
        case 1:
            // Random bytes flipped.
            for _ in 0..<(1 + below(6)) { bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: next()) }
        case 2:
            // Random garbage.
            bytes = (0..<(1 + below(300))).map { _ in UInt8(truncatingIfNeeded: self.next()) }
        case 3:
            // A huge Content-Length or chunk size.
            bytes = Array("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n".utf8)
            if below(2) == 0 { bytes = Array("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n".utf8) }
        case 4:
            // An endless header line.
            bytes = Array("GET / HTTP/1.1\r\nX: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 5_000 + below(5_000))
        case 5:
            // Smuggling shapes.
            bytes = Array("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8)
        case 6:
            // Control characters and NULs in the head.
            bytes.insert(contentsOf: [0, 1, 0x7F], at: below(bytes.count))
        default:
            // Only line endings.
            bytes = Array(repeating: UInt8(ascii: "\n"), count: 1 + below(50))
        }
        return bytes
    }
}

@Suite("Hostile input against a live server", .serialized)
struct HostileInputTests {
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    /// Sends one payload on a fresh connection and reads until the server answers and closes,
    /// or the short deadline passes (a truncated request simply waits for the rest).
    static func send(_ payload: [UInt8], port: Int, tls: TLSContext?) throws -> (status: Int?, closed: Bool) {
        let socket = try Socket.connect(host: "127.0.0.1", port: port, deadline: .after(.seconds(2)))
        defer { socket.close() }
        let stream: any ByteStream
        if let tls {
            let connection = try TLSConnection(context: tls, serverName: "localhost", peer: "server")
            let tlsStream = TLSStream(socket: socket, connection: connection)
            try tlsStream.handshake(deadline: .after(.seconds(2)))
            stream = tlsStream
        } else {
            stream = PlainStream(socket: socket)
        }
        try? stream.write(payload, deadline: .after(.seconds(1)))
        _ = Glibc.shutdown(socket.fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8_192)
        let deadline = Deadline.after(.milliseconds(300))
        while true {
            guard let count = try? buffer.withUnsafeMutableBytes({ try stream.read(into: $0, deadline: deadline) }) else {
                return (nil, false)
            }
            if count == 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: received, as: UTF8.self)
        return (text.hasPrefix("HTTP/1.1 ") ? Int(text.dropFirst(9).prefix(3)) : nil, true)
    }

    @Test("survives 10,000 generated malformed or truncated requests: 4xx/5xx or a close for each, memory bounded")
    func malformedRequests() async throws {
        let server = try makeServer(
            testRouter(),
            limits: HTTPServerLimits(requestLineBytes: 2_048, headerBytes: 4_096, bodyBytes: 64 * 1024),
            timeouts: HTTPServerTimeouts(read: .seconds(2), idle: .seconds(2), write: .seconds(2), shutdownGrace: .seconds(1))
        )
        try await withRunning(server) { server in
            let port = server.port
            let before = Self.residentBytes()
            let workers = 8
            let perWorker = 1_250
            let results = try await withThrowingTaskGroup(of: [Int: Int].self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        try await IOThreadPool.shared.run {
                            var generator = HostileRequests(seed: UInt64(worker + 1))
                            var histogram: [Int: Int] = [:]
                            for _ in 0..<perWorker {
                                let (status, _) = try Self.send(generator.make(), port: port, tls: nil)
                                histogram[status ?? 0, default: 0] += 1
                            }
                            return histogram
                        }
                    }
                }
                var merged: [Int: Int] = [:]
                for try await histogram in group { merged.merge(histogram, uniquingKeysWith: +) }
                return merged
            }
            #expect(results.values.reduce(0, +) == workers * perWorker)
            // Every answer is an error status or a request the mutation left valid; no 5xx
            // other than 501/505 for unsupported codings and versions.
            for (status, count) in results where status != 0 {
                #expect((200..<300).contains(status) || (400..<500).contains(status) || status == 501 || status == 505, "\(count) × \(status)")
            }
            #expect((results[400] ?? 0) > 2_000, "\(results)")
            let grown = Self.residentBytes() - before
            #expect(grown < 96 * 1024 * 1024, "resident memory grew by \(grown) bytes")
            let healthy = try await rawExchange(port: port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(healthy.statusCode == 200)
        }
    }

    @Test("survives garbage TLS records and hostile requests inside TLS, and keeps serving HTTPS")
    func hostileTLS() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try makeServer(
            testRouter(),
            tls: TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile),
            timeouts: HTTPServerTimeouts(read: .seconds(1), idle: .seconds(1), write: .seconds(1), shutdownGrace: .seconds(1))
        )
        let clientContext = try TLSContext.client(TLSClientConfiguration(trustRoots: .pem(.data(certificates.caCertificatePEM))))
        try await withRunning(server) { server in
            let port = server.port
            let closedCount = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        try await IOThreadPool.shared.run {
                            var generator = HostileRequests(seed: UInt64(100 + worker))
                            var closed = 0
                            for index in 0..<250 {
                                if index % 5 == 0 {
                                    // A real ClientHello, truncated or with a byte flipped.
                                    let hello = try TLSConnection(context: clientContext, serverName: "localhost", peer: "server")
                                    _ = try hello.handshake()
                                    var record = hello.takeOutput()
                                    if index % 10 == 0 {
                                        record = Array(record.prefix(index % record.count))
                                    } else {
                                        record[(index * 7) % record.count] ^= 0x5A
                                    }
                                    let outcome = try Self.send(record, port: port, tls: nil)
                                    if outcome.closed && outcome.status == nil { closed += 1 }
                                } else if index % 2 == 0 {
                                    // Raw garbage where a ClientHello should be.
                                    let outcome = try Self.send(generator.make(), port: port, tls: nil)
                                    if outcome.closed && outcome.status == nil { closed += 1 }
                                } else {
                                    let outcome = try Self.send(generator.make(), port: port, tls: clientContext)
                                    if outcome.closed { closed += 1 }
                                }
                            }
                            return closed
                        }
                    }
                }
                var total = 0
                for try await closed in group { total += closed }
                return total
            }
            #expect(closedCount > 650, "\(closedCount) of 1000 connections closed")
            let outcome = try await runProcess(curlPath, ["-s", "--cacert", certificates.caCertificateFile, "https://localhost:\(port)/hello"])
            #expect(outcome.output == "hello world\n")
        }
    }
}
