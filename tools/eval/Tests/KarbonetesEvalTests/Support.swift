import Foundation
import KarbonetesCarbon
import KarbonetesEval
import Synchronization

enum Paths {
    /// tools/eval
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let repository = package.deletingLastPathComponent().deletingLastPathComponent()
    static let traces = repository.appendingPathComponent("data/carbon")

    static let traceNames = [
        "electricitymaps_US-CAL-CISO_2022_hourly.csv",
        "electricitymaps_ES_2022_hourly.csv",
        "electricitymaps_NO_2022_hourly.csv",
        "entsoe_GB_2020_30min.csv",
    ]

    static func trace(_ name: String) -> String { traces.appendingPathComponent(name).path }

    /// The executable `swift test` built next to the test bundle.
    static var executable: URL {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent("karbonetes-eval"),
            bundleDirectory.deletingLastPathComponent().appendingPathComponent("karbonetes-eval"),
            package.appendingPathComponent(".build/debug/karbonetes-eval"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[2]
    }
}

func utc(_ text: String) -> Date {
    // Literal test inputs; a typo is a broken test.
    ISO8601DateFormatter().date(from: text)!
}

func hourlyTrace(_ values: [Double], start: String = "2022-06-01T00:00:00Z") -> CarbonTrace {
    // Literal test traces are valid.
    try! CarbonTrace.evenlySpaced(start: utc(start), step: 3600, intensities: values, source: "hand")
}

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the tool, reading stdout on another thread while this one reads stderr, so a chatty
/// child never blocks on a full pipe.
func runTool(_ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = Paths.executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = Mutex(Data())
    let reader = DispatchGroup()
    DispatchQueue.global().async(group: reader) {
        let data = out.fileHandleForReading.readDataToEndOfFile()
        outData.withLock { $0 = data }
    }
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    reader.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: outData.withLock { $0 }, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}
