public import Foundation

/// A duration written as Go's `time.ParseDuration` reads it (`6h`, `90m`, `1h30m`, `1.5h`,
/// `300ms`), the spelling Kubernetes users already know from every controller's flags.
///
/// Held as whole nanoseconds in an `Int64`, as Go does, so that overflow is detected where Go
/// detects it rather than silently wrapping a maxDelay into the past.
public struct GoDuration: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func seconds(_ seconds: Int64) -> GoDuration { GoDuration(nanoseconds: seconds * 1_000_000_000) }
    public static func minutes(_ minutes: Int64) -> GoDuration { .seconds(minutes * 60) }
    public static func hours(_ hours: Int64) -> GoDuration { .seconds(hours * 3600) }
    public static let zero = GoDuration(nanoseconds: 0)

    public var timeInterval: TimeInterval { TimeInterval(nanoseconds) / 1e9 }

    /// As a Swift `Duration`, for sleeps and timeouts.
    public var duration: Duration { .nanoseconds(nanoseconds) }

    public static func < (lhs: GoDuration, rhs: GoDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// Parses Go's syntax. `allowNegative` is off by default because every duration in the
    /// Karbonetes contract (maxDelay, recheck intervals) is a length of time, never an offset.
    public init(parsing text: String, allowNegative: Bool = false) throws(GoDurationError) {
        var scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { throw .empty }
        var negative = false
        if scalars[0] == "-" || scalars[0] == "+" {
            negative = scalars[0] == "-"
            scalars.removeFirst()
        }
        if negative && !allowNegative { throw .negative(text) }
        if scalars.count == 1, scalars[0] == "0" {
            self.nanoseconds = 0
            return
        }
        guard !scalars.isEmpty else { throw .invalid(text) }
        var total: UInt64 = 0
        var index = 0
        while index < scalars.count {
            var whole: UInt64 = 0
            var sawDigits = false
            while index < scalars.count, let digit = Self.digit(scalars[index]) {
                let (product, overflowA) = whole.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = product.addingReportingOverflow(digit)
                if overflowA || overflowB { throw .overflow(text) }
                whole = sum
                sawDigits = true
                index += 1
            }
            var fraction: UInt64 = 0
            var fractionScale: Double = 1
            if index < scalars.count, scalars[index] == "." {
                index += 1
                while index < scalars.count, let digit = Self.digit(scalars[index]) {
                    if fractionScale < 1e18 {
                        fraction = fraction * 10 + digit
                        fractionScale *= 10
                    }
                    sawDigits = true
                    index += 1
                }
            }
            guard sawDigits else { throw .invalid(text) }
            var unit = ""
            while index < scalars.count, scalars[index] != ".", Self.digit(scalars[index]) == nil {
                unit.unicodeScalars.append(scalars[index])
                index += 1
            }
            guard !unit.isEmpty else { throw .missingUnit(text) }
            guard let unitNanos = Self.units[unit] else { throw .unknownUnit(unit, in: text) }
            let (wholeNanos, overflowA) = whole.multipliedReportingOverflow(by: unitNanos)
            if overflowA { throw .overflow(text) }
            let fractionNanos = UInt64(Double(fraction) * Double(unitNanos) / fractionScale)
            let (part, overflowB) = wholeNanos.addingReportingOverflow(fractionNanos)
            let (sum, overflowC) = total.addingReportingOverflow(part)
            if overflowB || overflowC || sum > UInt64(Int64.max) { throw .overflow(text) }
            total = sum
        }
        self.nanoseconds = negative ? -Int64(total) : Int64(total)
    }

    private static func digit(_ scalar: Unicode.Scalar) -> UInt64? {
        scalar.value >= 48 && scalar.value <= 57 ? UInt64(scalar.value - 48) : nil
    }

    private static let units: [String: UInt64] = [
        "ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]

    /// Go's `Duration.String()` spelling: `1h30m0s`, `90s` → `1m30s`, `500ms`.
    public var description: String {
        if nanoseconds == 0 { return "0s" }
        let negative = nanoseconds < 0
        let magnitude = nanoseconds.magnitude
        var out: String
        if magnitude < 1_000_000_000 {
            if magnitude < 1_000 {
                out = "\(magnitude)ns"
            } else if magnitude < 1_000_000 {
                out = Self.decimal(magnitude, 1_000) + "µs"
            } else {
                out = Self.decimal(magnitude, 1_000_000) + "ms"
            }
        } else {
            let hours = magnitude / 3_600_000_000_000
            let minutes = magnitude / 60_000_000_000 % 60
            let seconds = Self.decimal(magnitude % 60_000_000_000, 1_000_000_000)
            out = ""
            if hours > 0 { out += "\(hours)h" }
            if hours > 0 || minutes > 0 { out += "\(minutes)m" }
            out += seconds + "s"
        }
        return negative ? "-" + out : out
    }

    private static func decimal(_ value: UInt64, _ unit: UInt64) -> String {
        let whole = value / unit
        let fraction = value % unit
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(fraction)
        let width = String(unit - 1).count
        digits = String(repeating: "0", count: width - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a duration did not parse, with the text the user wrote.
public struct GoDurationError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case empty
        case invalid(String)
        case negative(String)
        case missingUnit(String)
        case unknownUnit(String, String)
        case overflow(String)
    }

    private let kind: Kind

    static let empty = GoDurationError(kind: .empty)
    static func invalid(_ text: String) -> GoDurationError { GoDurationError(kind: .invalid(text)) }
    static func negative(_ text: String) -> GoDurationError { GoDurationError(kind: .negative(text)) }
    static func missingUnit(_ text: String) -> GoDurationError { GoDurationError(kind: .missingUnit(text)) }
    static func unknownUnit(_ unit: String, in text: String) -> GoDurationError {
        GoDurationError(kind: .unknownUnit(unit, text))
    }
    static func overflow(_ text: String) -> GoDurationError { GoDurationError(kind: .overflow(text)) }

    public var description: String {
        switch kind {
        case .empty: return "empty duration: write one like 6h, 90m or 1h30m"
        case .invalid(let text): return "invalid duration \"\(text)\": write one like 6h, 90m or 1h30m"
        case .negative(let text): return "negative duration \"\(text)\": a delay must be zero or more"
        case .missingUnit(let text): return "missing unit in duration \"\(text)\": use h, m, s, ms, us or ns"
        case .unknownUnit(let unit, let text):
            return "unknown unit \"\(unit)\" in duration \"\(text)\": use h, m, s, ms, us or ns"
        case .overflow(let text): return "duration \"\(text)\" is too long (the limit is about 292 years)"
        }
    }
}
