public import Foundation

extension YAMLValue {
    /// The node as JSON text, mapping keys in document order. NaN and infinities have no JSON
    /// spelling and are an error rather than a silently different number.
    public func jsonData() throws -> Data {
        var out = ""
        try appendJSON(to: &out)
        return Data(out.utf8)
    }

    private func appendJSON(to out: inout String) throws {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value):
            guard value.isFinite else { throw YAMLError.notJSON("the number \(value)") }
            out += value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): Self.appendQuoted(value, to: &out)
        case .sequence(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                try item.appendJSON(to: &out)
            }
            out += "]"
        case .mapping(let entries):
            out += "{"
            for (index, entry) in entries.enumerated() {
                if index > 0 { out += "," }
                Self.appendQuoted(entry.key, to: &out)
                out += ":"
                try entry.value.appendJSON(to: &out)
            }
            out += "}"
        }
    }

    private static func appendQuoted(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
