import Foundation
import KarbonetesCarbon

/// The shipped traces, found from this file so tests run from any directory.
enum ShippedTraces {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data/carbon")

    static let names = [
        "electricitymaps_US-CAL-CISO_2022_hourly.csv",
        "electricitymaps_ES_2022_hourly.csv",
        "electricitymaps_NO_2022_hourly.csv",
        "entsoe_GB_2020_30min.csv",
    ]

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func load(_ name: String) throws -> CarbonTrace { try CarbonTrace.load(contentsOfFile: path(name)) }
}

/// A seeded generator so "random" cases are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func utc(_ text: String) -> Date {
    // Test inputs are literals; a typo here is a broken test.
    ISO8601DateFormatter().date(from: text)!
}
