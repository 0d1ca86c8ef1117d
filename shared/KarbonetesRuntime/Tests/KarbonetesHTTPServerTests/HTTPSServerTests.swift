import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesHTTPServer
import KarbonetesRuntimeTestKit
import KarbonetesTLS
import Testing

@Suite("HTTPS server over loopback", .serialized)
struct HTTPSServerTests {
    static func tlsServer(_ certificates: TestCertificates, clientCA: Bool = false) throws -> HTTPServer {
        try makeServer(
            testRouter(),
            tls: TLSServerConfiguration(
                certificateFile: certificates.certificateFile,
                keyFile: certificates.keyFile,
                clientCAFile: clientCA ? certificates.caCertificateFile : nil
            )
        )
    }

    struct VersionCase: Sendable, CustomStringConvertible {
        var description: String
        var curlArguments: [String]
        var wantAccepted: Bool
    }

    @Test("refuses TLS 1.1 and accepts TLS 1.2 and 1.3 from curl", arguments: [
        VersionCase(description: "TLS 1.1 only", curlArguments: ["--tlsv1.1", "--tls-max", "1.1"], wantAccepted: false),
        VersionCase(description: "TLS 1.2 only", curlArguments: ["--tlsv1.2", "--tls-max", "1.2"], wantAccepted: true),
        VersionCase(description: "TLS 1.3", curlArguments: ["--tlsv1.3"], wantAccepted: true),
        VersionCase(description: "TLS 1.2 with a weak CBC cipher", curlArguments: ["--tls-max", "1.2", "--ciphers", "AES128-SHA"], wantAccepted: false),
    ])
    func versions(testCase: VersionCase) async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try Self.tlsServer(certificates)
        try await withRunning(server) { server in
            let outcome = try await runProcess(
                curlPath,
                ["-sS", "--cacert", certificates.caCertificateFile] + testCase.curlArguments + ["https://localhost:\(server.port)/hello?name=tls"]
            )
            if testCase.wantAccepted {
                #expect(outcome.status == 0, "\(outcome.error)")
                #expect(outcome.output == "hello tls\n")
            } else {
                #expect(outcome.status != 0)
                #expect(outcome.output.isEmpty)
                // The server's alert, not a refusal on curl's side.
                #expect(outcome.error.contains("alert"), "\(outcome.error)")
            }
        }
    }

    @Test("picks up a rotated certificate for new connections while an open one keeps working")
    func rotation() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try Self.tlsServer(certificates)
        try await withRunning(server) { server in
            let port = server.port
            let resolve = ["--resolve", "rotated.test:\(port):127.0.0.1", "--cacert", certificates.caCertificateFile]
            let before = try await runProcess(curlPath, ["-s"] + resolve + ["https://rotated.test:\(port)/hello"])
            #expect(before.status != 0, "the first certificate has no rotated.test name")

            let client = try HTTPClient(
                configuration: HTTPClientConfiguration(
                    baseURL: URL(string: "https://localhost:\(port)")!,
                    tls: TLSClientConfiguration(trustRoots: .pem(.file(certificates.caCertificateFile)))
                )
            )
            #expect(try await client.execute(HTTPClientRequest(path: "/hello")).status == 200)

            try certificates.rotateServingCertificate(dnsNames: ["localhost", "rotated.test"])
            try await Task.sleep(for: .milliseconds(1_200))
            let after = try await runProcess(curlPath, ["-s"] + resolve + ["https://rotated.test:\(port)/hello"])
            #expect(after.status == 0, "\(after.error)")
            #expect(after.output == "hello world\n")
            // The pooled connection from before the rotation still works.
            #expect(try await client.execute(HTTPClientRequest(path: "/hello")).status == 200)
            await client.shutdown()
        }
    }

    @Test("requires a client certificate from the client CA when configured, for curl and the runtime's client")
    func mutualTLS() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let pair = try certificates.makeClientCertificate(commonName: "kube-apiserver")
        let server = try Self.tlsServer(certificates, clientCA: true)
        try await withRunning(server) { server in
            let url = "https://localhost:\(server.port)/hello"
            let without = try await runProcess(curlPath, ["-s", "--cacert", certificates.caCertificateFile, url])
            #expect(without.status != 0)
            let with = try await runProcess(
                curlPath,
                ["-s", "--cacert", certificates.caCertificateFile, "--cert", pair.certificateFile, "--key", pair.keyFile, url]
            )
            #expect(with.status == 0 && with.output == "hello world\n", "\(with.error)")

            let client = try HTTPClient(
                configuration: HTTPClientConfiguration(
                    baseURL: URL(string: "https://localhost:\(server.port)")!,
                    tls: TLSClientConfiguration(
                        trustRoots: .pem(.data(certificates.caCertificatePEM)),
                        clientCertificate: .data(try Data(contentsOf: URL(fileURLWithPath: pair.certificateFile))),
                        clientKey: .file(pair.keyFile)
                    )
                )
            )
            #expect(try await client.execute(HTTPClientRequest(path: "/hello")).status == 200)
            await client.shutdown()
        }
    }

    @Test("answers 413 and 431 over TLS too")
    func limitsOverTLS() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try makeServer(
            testRouter(),
            tls: TLSServerConfiguration(certificateFile: certificates.certificateFile, keyFile: certificates.keyFile),
            limits: HTTPServerLimits(headerBytes: 2_048, bodyBytes: 1_000)
        )
        try await withRunning(server) { server in
            let base = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificates.caCertificateFile]
            let body = try await runProcess(curlPath, base + ["--data-binary", String(repeating: "x", count: 5_000), "https://localhost:\(server.port)/echo"])
            #expect(body.output == "413")
            let header = try await runProcess(curlPath, base + ["-H", "X-Big: " + String(repeating: "y", count: 3_000), "https://localhost:\(server.port)/hello"])
            #expect(header.output == "431")
        }
    }
}
