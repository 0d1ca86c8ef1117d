public import Foundation
public import KarbonetesModels

/// `/v1/signal`'s body written by hand: the hottest path of the service, where `JSONEncoder`
/// took most of the CPU under wrk. Byte for byte what `KubernetesJSON.encoder` writes (sorted
/// keys, RFC 3339 seconds, no escaped slashes); a test compares the two.
public enum SignalJSON {
    public static func encode(_ signal: CarbonSignal) -> Data {
        var out = "{\"ageSeconds\":"
        out.reserveCapacity(320)
        number(signal.ageSeconds, into: &out)
        out += ",\"green\":" + (signal.green ? "true" : "false")
        out += ",\"intensity\":"
        number(signal.intensity, into: &out)
        if let next = signal.nextGreenStart { out += ",\"nextGreenStart\":\"" + RFC3339.format(next) + "\"" }
        out += ",\"observedAt\":\"" + RFC3339.format(signal.observedAt) + "\""
        out += ",\"region\":"
        string(signal.region, into: &out)
        out += ",\"rule\":"
        string(signal.rule, into: &out)
        out += ",\"source\":"
        string(signal.source, into: &out)
        out += ",\"stale\":" + (signal.stale ? "true" : "false")
        if let threshold = signal.threshold {
            out += ",\"threshold\":"
            number(threshold, into: &out)
        }
        out += ",\"windowEnd\":\"" + RFC3339.format(signal.windowEnd) + "\""
        out += ",\"windowStart\":\"" + RFC3339.format(signal.windowStart) + "\"}"
        return Data(out.utf8)
    }

    /// As `JSONEncoder` writes a finite `Double`: its shortest spelling, without a `.0`.
    static func number(_ value: Double, into out: inout String) {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        out += text
    }

    /// A JSON string: quotes, backslashes and control characters escaped, as `JSONEncoder` does.
    static func string(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
