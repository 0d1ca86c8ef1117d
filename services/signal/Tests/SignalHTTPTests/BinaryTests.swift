import Dispatch
import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesModels
import SignalApp
import Testing

/// Runs the built `karbonetes-signal` (SwiftPM builds it next to the test bundle).
enum SignalBinary {
    static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "karbonetes-signal")
    }

    /// Runs to completion off the cooperative pool and returns the exit code and stdout.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = url
                    process.arguments = arguments
                    let pipe = Pipe()
                    process.standardOutput = pipe
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

@Suite("The karbonetes-signal executable", .serialized)
struct BinaryTests {
    @Test("--version prints the VERSION and --help describes the built-in mock and every flag")
    func versionAndHelp() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: SignalBinary.url.path), "no binary at \(SignalBinary.url.path)"
        )
        let version = try await SignalBinary.run(["--version"])
        #expect(version.status == 0)
        #expect(version.output.contains(SignalVersion.current))
        let help = try await SignalBinary.run(["--help"])
        #expect(help.status == 0)
        for text in [
            "--config", "--listen", "127.0.0.1:8090", "--enable-demo-override", "--log-level", "10:00-16:00 UTC",
            "region default",
        ] {
            #expect(help.output.contains(text), "help lacks \(text)")
        }
        let bad = try await SignalBinary.run(["--listen", "nowhere"])
        #expect(bad.status == 2)
    }

    @Test("serves on the port it logs and exits 0 after SIGTERM")
    func servesAndDrains() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: SignalBinary.url.path))
        let process = Process()
        process.executableURL = SignalBinary.url
        process.arguments = ["--listen", "127.0.0.1:0"]
        let logs = Pipe()
        process.standardError = logs
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let port = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            DispatchQueue.global().async {
                var buffer = Data()
                while true {
                    let chunk = logs.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    let text = String(decoding: buffer, as: UTF8.self)
                    if let range = text.range(of: #""http.address":"127.0.0.1:"#) {
                        let digits = text[range.upperBound...].prefix { $0.isNumber }
                        if let port = Int(digits), text[range.upperBound...].dropFirst(digits.count).first == "\"" {
                            continuation.resume(returning: port)
                            return
                        }
                    }
                }
                continuation.resume(throwing: CancellationError())
            }
        }
        let client = try HTTPClient(
            configuration: HTTPClientConfiguration(baseURL: URL(string: "http://127.0.0.1:\(port)")!))
        let response = try await client.execute(HTTPClientRequest(path: SignalAPI.regionsPath))
        #expect(response.status == 200)
        #expect(
            try KubernetesJSON.decoder.decode(SignalRegions.self, from: response.body).regions == [
                SignalRegion(name: "default", provider: "static")
            ])
        await client.shutdown()
        process.terminate()
        let status = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
        #expect(status == 0)
    }
}
