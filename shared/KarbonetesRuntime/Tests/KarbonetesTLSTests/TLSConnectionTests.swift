import Foundation
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Testing

/// Moves bytes between two sessions in memory until both handshakes finish or one fails.
private func handshake(_ client: TLSConnection, _ server: TLSConnection) throws {
    for _ in 0..<20 {
        let clientDone = try client.handshake()
        server.receive(client.takeOutput())
        let serverDone = try server.handshake()
        client.receive(server.takeOutput())
        if clientDone && serverDone && !client.hasOutput && !server.hasOutput { return }
    }
    Issue.record("handshake did not finish")
}

private func read(_ connection: TLSConnection) throws -> String {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let result = try buffer.withUnsafeMutableBytes { try connection.read(into: $0) }
    guard case .bytes(let count) = result else { return "<\(result)>" }
    return String(decoding: buffer[0..<count], as: UTF8.self)
}

private func write(_ text: String, _ connection: TLSConnection) throws {
    try Array(text.utf8).withUnsafeBytes { try connection.write($0) }
}

@Suite("TLS sessions in memory")
struct TLSConnectionTests {
    static let certificates = try! TestCertificates.make(commonName: "webhook.karbonetes.svc", dnsNames: ["webhook.karbonetes.svc", "localhost"])

    static func server(clientCA: Bool = false, minimum: TLSVersion = .tls12) throws -> TLSContext {
        try TLSContext.server(
            TLSServerConfiguration(
                certificateFile: certificates.certificateFile,
                keyFile: certificates.keyFile,
                clientCAFile: clientCA ? certificates.caCertificateFile : nil,
                minimumVersion: minimum
            )
        )
    }

    @Test("completes a handshake with a trusted CA and exchanges data both ways over TLS 1.3")
    func roundTrip() throws {
        let client = try TLSConnection(
            context: TLSContext.client(TLSClientConfiguration(trustRoots: .pem(.data(Self.certificates.caCertificatePEM)))),
            serverName: "webhook.karbonetes.svc",
            peer: "server"
        )
        let server = try TLSConnection(context: Self.server(), peer: "client")
        try handshake(client, server)
        #expect(client.negotiatedVersion == "TLSv1.3")
        try write("admission review", client)
        server.receive(client.takeOutput())
        #expect(try read(server) == "admission review")
        try write("patch", server)
        client.receive(server.takeOutput())
        #expect(try read(client) == "patch")
        #expect(try read(client) == "<wantRead>")
        server.close()
        client.receive(server.takeOutput())
        #expect(try read(client) == "<closed>")
    }

    struct VerifyCase: Sendable, CustomStringConvertible {
        var description: String
        var serverName: String
        var trustsCA: Bool
        var insecure: Bool
        var wantSuccess: Bool
    }

    @Test("verifies the chain and the host name unless told to skip", arguments: [
        VerifyCase(description: "right name, trusted", serverName: "localhost", trustsCA: true, insecure: false, wantSuccess: true),
        VerifyCase(description: "an IP address in the SANs", serverName: "127.0.0.1", trustsCA: true, insecure: false, wantSuccess: true),
        VerifyCase(description: "wrong name", serverName: "api.example.com", trustsCA: true, insecure: false, wantSuccess: false),
        VerifyCase(description: "untrusted CA", serverName: "localhost", trustsCA: false, insecure: false, wantSuccess: false),
        VerifyCase(description: "untrusted and wrong name but skipped", serverName: "other", trustsCA: false, insecure: true, wantSuccess: true),
    ])
    func verification(testCase: VerifyCase) throws {
        let otherCA = try TestCertificates.make()
        defer { otherCA.remove() }
        let trusted = testCase.trustsCA ? Self.certificates.caCertificatePEM : otherCA.caCertificatePEM
        let client = try TLSConnection(
            context: TLSContext.client(TLSClientConfiguration(trustRoots: .pem(.data(trusted)), insecureSkipVerify: testCase.insecure)),
            serverName: testCase.serverName,
            peer: "server"
        )
        let server = try TLSConnection(context: Self.server(), peer: "client")
        if testCase.wantSuccess {
            try handshake(client, server)
        } else {
            let error = #expect(throws: TLSError.self) { try handshake(client, server) }
            #expect(error?.description.contains("certificate verification failed") == true, "\(String(describing: error))")
        }
    }

    @Test("asks for a client certificate signed by the client CA and reads its subject")
    func mutualTLS() throws {
        let pair = try Self.certificates.makeClientCertificate(commonName: "controller")
        let withCertificate = try TLSConnection(
            context: TLSContext.client(
                TLSClientConfiguration(
                    trustRoots: .pem(.file(Self.certificates.caCertificateFile)),
                    clientCertificate: .file(pair.certificateFile),
                    clientKey: .file(pair.keyFile)
                )
            ),
            serverName: "localhost",
            peer: "server"
        )
        let server = try TLSConnection(context: Self.server(clientCA: true), peer: "client")
        try handshake(withCertificate, server)
        try write("hi", withCertificate)
        server.receive(withCertificate.takeOutput())
        #expect(try read(server) == "hi")
        #expect(server.peerCertificateSubject?.contains("CN=controller") == true)

        let without = try TLSConnection(
            context: TLSContext.client(TLSClientConfiguration(trustRoots: .pem(.file(Self.certificates.caCertificateFile)))),
            serverName: "localhost",
            peer: "server"
        )
        let strictServer = try TLSConnection(context: Self.server(clientCA: true), peer: "client")
        #expect(throws: TLSError.self) {
            try handshake(without, strictServer)
            // TLS 1.3 reports a missing client certificate on the first read after the handshake.
            try write("x", without)
            strictServer.receive(without.takeOutput())
            _ = try read(strictServer)
        }
    }

    @Test("negotiates TLS 1.3 with a server whose minimum is 1.3")
    func minimumVersion() throws {
        let server = try TLSConnection(context: Self.server(minimum: .tls13), peer: "client")
        let client = try TLSConnection(
            context: TLSContext.client(TLSClientConfiguration(trustRoots: .pem(.data(Self.certificates.caCertificatePEM)))),
            serverName: "localhost",
            peer: "server"
        )
        try handshake(client, server)
        #expect(server.negotiatedVersion == "TLSv1.3")
    }

    @Test("rejects certificate and key files that are missing, not PEM or do not match")
    func badFiles() throws {
        let other = try TestCertificates.make()
        defer { other.remove() }
        let garbage = other.directory.appendingPathComponent("garbage.pem").path
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: garbage))
        let cases: [(String, String)] = [
            ("/nonexistent/tls.crt", other.keyFile),
            (garbage, other.keyFile),
            (other.certificateFile, garbage),
            (other.certificateFile, Self.certificates.keyFile),
        ]
        for (certificate, key) in cases {
            #expect(throws: TLSError.self, "\(certificate) + \(key)") {
                try TLSContext.server(TLSServerConfiguration(certificateFile: certificate, keyFile: key))
            }
        }
        #expect(throws: TLSError.self) {
            try TLSContext.client(TLSClientConfiguration(trustRoots: .pem(.data(Data("junk".utf8)))))
        }
    }

    @Test("fails cleanly, without crashing, on thousands of random and truncated TLS records")
    func hostileRecords() throws {
        let context = try Self.server()
        var generator = SystemRandomNumberGenerator()
        var failures = 0
        for iteration in 0..<3_000 {
            let server = try TLSConnection(context: context, peer: "fuzz")
            var bytes: [UInt8]
            switch iteration % 3 {
            case 0:
                bytes = (0..<Int.random(in: 1...600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1:
                // A plausible handshake record header with a random body.
                bytes = [0x16, 0x03, 0x01, 0x01, 0x00] + (0..<256).map { _ in UInt8.random(in: 0...255, using: &generator) }
            default:
                bytes = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            }
            server.receive(bytes)
            do {
                _ = try server.handshake()
            } catch {
                failures += 1
            }
        }
        #expect(failures >= 2_000)
    }
}

@Suite("TLS certificate reload", .serialized)
struct TLSReloadTests {
    @Test("serves the rotated certificate after the files change, and keeps the old one while they are broken")
    func reload() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let provider = try TLSServerContextProvider(
            configuration: TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile),
            checkInterval: .milliseconds(50)
        )
        let first = try #require(provider.currentContext().certificateSerialNumber)
        let rotated = try certificates.rotateServingCertificate()
        try await Task.sleep(for: .milliseconds(80))
        #expect(provider.currentContext().certificateSerialNumber == rotated)
        #expect(rotated != first)
        #expect(provider.reloadCount == 1)

        try Data("half-written".utf8).write(to: URL(fileURLWithPath: certificates.certificateFile))
        try await Task.sleep(for: .milliseconds(80))
        #expect(provider.currentContext().certificateSerialNumber == rotated)
        #expect(provider.reloadCount == 1)
    }
}
