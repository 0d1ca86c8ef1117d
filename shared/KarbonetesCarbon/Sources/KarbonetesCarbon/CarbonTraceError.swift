/// Why a trace could not be read or built. The description names the file, the line and the
/// column (`data/carbon/x.csv:12:6: …`), so a user pointing `karbonetes-eval` or the signal
/// service at their own export can fix the row at once.
public struct CarbonTraceError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case unreadable(String)
        case empty
        case unknownFormat(header: [String])
        case missingColumn(String, available: [String])
        case missingField(columnName: String)
        case badTime(String, columnName: String)
        case badIntensity(String, columnName: String)
        case notIncreasing(time: String, previousLine: Int)
        case unterminatedQuote
        case tooFewPoints(Int)
        case invalidPoint(String)
    }

    private let kind: Kind
    /// The file (or the label the caller gave the text).
    public let file: String
    /// 1-based line of the offending row, when one row is at fault.
    public let line: Int?
    /// 1-based field number in that row, when one field is at fault.
    public let column: Int?

    private init(_ kind: Kind, file: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.file = file
        self.line = line
        self.column = column
    }

    static func unreadable(_ file: String, reason: String) -> CarbonTraceError {
        CarbonTraceError(.unreadable(reason), file: file)
    }

    static func empty(_ file: String) -> CarbonTraceError { CarbonTraceError(.empty, file: file, line: 1) }

    static func unknownFormat(_ file: String, header: [String]) -> CarbonTraceError {
        CarbonTraceError(.unknownFormat(header: header), file: file, line: 1)
    }

    static func missingColumn(_ file: String, column: String, available: [String]) -> CarbonTraceError {
        CarbonTraceError(.missingColumn(column, available: available), file: file, line: 1)
    }

    static func missingField(_ file: String, line: Int, column: Int, name: String) -> CarbonTraceError {
        CarbonTraceError(.missingField(columnName: name), file: file, line: line, column: column)
    }

    static func badTime(_ file: String, line: Int, column: Int, name: String, text: String) -> CarbonTraceError {
        CarbonTraceError(.badTime(text, columnName: name), file: file, line: line, column: column)
    }

    static func badIntensity(_ file: String, line: Int, column: Int, name: String, text: String) -> CarbonTraceError {
        CarbonTraceError(.badIntensity(text, columnName: name), file: file, line: line, column: column)
    }

    static func notIncreasing(_ file: String, line: Int, column: Int, time: String, previousLine: Int) -> CarbonTraceError {
        CarbonTraceError(.notIncreasing(time: time, previousLine: previousLine), file: file, line: line, column: column)
    }

    static func unterminatedQuote(_ file: String, line: Int) -> CarbonTraceError {
        CarbonTraceError(.unterminatedQuote, file: file, line: line)
    }

    static func tooFewPoints(_ file: String, count: Int) -> CarbonTraceError {
        CarbonTraceError(.tooFewPoints(count), file: file)
    }

    static func invalidPoint(_ source: String, index: Int, reason: String) -> CarbonTraceError {
        CarbonTraceError(.invalidPoint("point \(index): \(reason)"), file: source)
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return "\(place): \(problem)"
    }

    private var problem: String {
        switch kind {
        case .unreadable(let reason):
            return "cannot read the trace: \(reason)"
        case .empty:
            return "the trace is empty (a header and at least two rows are needed)"
        case .unknownFormat(let header):
            return "unknown trace format: the header \(quoted(header)) has neither the Electricity Maps columns "
                + "(\"\(CarbonTraceFormat.electricityMaps.timeColumn)\", \"\(CarbonTraceFormat.electricityMaps.defaultIntensityColumn)\") "
                + "nor the ENTSO-E ones (\"\(CarbonTraceFormat.entsoe.timeColumn)\", \"\(CarbonTraceFormat.entsoe.defaultIntensityColumn)\")"
        case .missingColumn(let column, let available):
            return "no column \"\(column)\" in the header; the columns are \(quoted(available))"
        case .missingField(let name):
            return "column \"\(name)\": the row ends before this field"
        case .badTime(let text, let name):
            return "column \"\(name)\": \"\(text)\" is not a UTC time (use 2022-01-01 00:00:00 or RFC 3339)"
        case .badIntensity(let text, let name):
            return "column \"\(name)\": \"\(text)\" is not a non-negative number of gCO2eq/kWh"
        case .notIncreasing(let time, let previousLine):
            return "time \(time) is not after the time on line \(previousLine): rows must be in increasing time order without duplicates"
        case .unterminatedQuote:
            return "a quoted field starting on this line is never closed"
        case .tooFewPoints(let count):
            return "a trace needs at least two points to know its step; it has \(count)"
        case .invalidPoint(let reason):
            return reason
        }
    }

    private func quoted(_ names: [String]) -> String {
        "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }
}
