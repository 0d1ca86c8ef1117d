public import Foundation

/// The CSV layouts Karbonetes reads, told apart by their header.
public enum CarbonTraceFormat: String, Sendable, Hashable, CaseIterable {
    /// Electricity Maps data-portal exports: `Datetime (UTC)`, and the intensity in
    /// `Carbon Intensity gCO₂eq/kWh (LCA)` (also `(direct)`), among other columns.
    case electricityMaps = "electricitymaps"
    /// ENTSO-E-derived series as the "Let's Wait Awhile" data has them: `Time,Carbon Intensity`.
    case entsoe

    public var timeColumn: String {
        switch self {
        case .electricityMaps: return "Datetime (UTC)"
        case .entsoe: return "Time"
        }
    }

    /// Life-cycle intensity for Electricity Maps, because that is what the Carbon Aware SDK
    /// and most papers report; choose `(direct)` with the `column` argument.
    public var defaultIntensityColumn: String {
        switch self {
        case .electricityMaps: return "Carbon Intensity gCO₂eq/kWh (LCA)"
        case .entsoe: return "Carbon Intensity"
        }
    }

    /// The format whose time and default intensity columns the header has, or nil.
    public static func detect(header: [String]) -> CarbonTraceFormat? {
        let names = Set(header.map(ColumnName.normalized))
        return allCases.first { names.contains(ColumnName.normalized($0.timeColumn)) && names.contains(ColumnName.normalized($0.defaultIntensityColumn)) }
    }
}

extension CarbonTrace {
    /// Reads a trace file in one of the ``CarbonTraceFormat``s. Blocking file I/O: call it
    /// before starting servers, or off the cooperative pool.
    /// - Parameter column: the intensity column (exact header text, or any spelling that is
    ///   the same ignoring case and `₂`/`2`, or a fragment naming one column such as
    ///   `direct`); nil for the format's default.
    public static func load(contentsOfFile path: String, column: String? = nil) throws -> CarbonTrace {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CarbonTraceError.unreadable(path, reason: (error as NSError).localizedDescription)
        }
        return try parseCSV(data, source: path, column: column)
    }

    /// Parses CSV text (RFC 4180: quoted fields with `""`, commas and newlines inside quotes,
    /// CRLF or LF, a UTF-8 byte-order mark) in one of the ``CarbonTraceFormat``s.
    /// - Parameter source: names the text in errors, usually its file path.
    public static func parseCSV(_ data: Data, source: String, column: String? = nil) throws -> CarbonTrace {
        let rows = try CSVReader.rows(Array(data), source: source)
        guard let header = rows.first else { throw CarbonTraceError.empty(source) }
        guard let format = CarbonTraceFormat.detect(header: header.fields) else {
            throw CarbonTraceError.unknownFormat(source, header: header.fields)
        }
        let timeIndex = try ColumnName.index(of: format.timeColumn, in: header.fields, source: source)
        let valueIndex = try ColumnName.index(of: column ?? format.defaultIntensityColumn, in: header.fields, source: source)
        let timeName = header.fields[timeIndex]
        let valueName = header.fields[valueIndex]

        var points: [IntensityPoint] = []
        points.reserveCapacity(rows.count)
        var previousLine = 0
        for row in rows.dropFirst() {
            guard timeIndex < row.fields.count else {
                throw CarbonTraceError.missingField(source, line: row.line, column: timeIndex + 1, name: timeName)
            }
            guard valueIndex < row.fields.count else {
                throw CarbonTraceError.missingField(source, line: row.line, column: valueIndex + 1, name: valueName)
            }
            let timeText = row.fields[timeIndex].trimmingCharacters(in: .whitespaces)
            guard let time = UTCTime.parse(timeText) else {
                throw CarbonTraceError.badTime(source, line: row.line, column: timeIndex + 1, name: timeName, text: timeText)
            }
            let valueText = row.fields[valueIndex].trimmingCharacters(in: .whitespaces)
            guard let value = Double(valueText), value.isFinite, value >= 0 else {
                throw CarbonTraceError.badIntensity(source, line: row.line, column: valueIndex + 1, name: valueName, text: valueText)
            }
            if let last = points.last, time <= last.time {
                throw CarbonTraceError.notIncreasing(source, line: row.line, column: timeIndex + 1, time: timeText, previousLine: previousLine)
            }
            points.append(IntensityPoint(time: time, intensity: value))
            previousLine = row.line
        }
        guard points.count >= 2 else { throw CarbonTraceError.tooFewPoints(source, count: points.count) }
        return try CarbonTrace(points: points, source: source)
    }
}

/// Header matching that forgives what people change when they retype a column name.
enum ColumnName {
    static func normalized(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "₂", with: "2")
    }

    static func index(of wanted: String, in header: [String], source: String) throws -> Int {
        if let exact = header.firstIndex(of: wanted) { return exact }
        let key = normalized(wanted)
        if let same = header.firstIndex(where: { normalized($0) == key }) { return same }
        let containing = header.indices.filter { normalized(header[$0]).contains(key) }
        if containing.count == 1, !key.isEmpty { return containing[0] }
        throw CarbonTraceError.missingColumn(source, column: wanted, available: header)
    }
}

/// A row of fields and the line it starts on.
struct CSVRow: Sendable, Hashable {
    var line: Int
    var fields: [String]
}

/// An RFC 4180 reader over bytes. Blank lines are skipped.
enum CSVReader {
    static func rows(_ bytes: [UInt8], source: String) throws -> [CSVRow] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var rows: [CSVRow] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var rowLine = 1
        var inQuotes = false
        var quoteLine = 1

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        }
        func endRow() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(CSVRow(line: rowLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }

        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inQuotes {
                if byte == quote {
                    if index < bytes.count, bytes[index] == quote {
                        field.append(quote)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == newline { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case quote where field.isEmpty:
                inQuotes = true
                quoteLine = line
            case comma:
                endField()
            case carriageReturn where index < bytes.count && bytes[index] == newline:
                continue
            case newline:
                endRow()
                line += 1
                rowLine = line
            default:
                field.append(byte)
            }
        }
        if inQuotes { throw CarbonTraceError.unterminatedQuote(source, line: quoteLine) }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        return rows
    }
}

/// Reads the times trace exports use: `2022-01-01 00:00:00` (UTC, as both shipped formats
/// write it), the same with `T`, without seconds, with fractional seconds, or with `Z` or a
/// numeric offset (RFC 3339).
enum UTCTime {
    static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= b.count else { return nil }
            var value = 0
            for k in i..<(i + digits) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                value = value * 10 + Int(b[k] - 48)
            }
            i += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard i < b.count, characters.utf8.contains(b[i]) else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect(" Tt"), let hour = number(2), expect(":"), let minute = number(2)
        else { return nil }
        var second = 0.0
        if i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            guard let whole = number(2) else { return nil }
            second = Double(whole)
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                var scale = 0.1
                let fractionStart = i
                while i < b.count, b[i] >= 48, b[i] <= 57 {
                    second += Double(b[i] - 48) * scale
                    scale /= 10
                    i += 1
                }
                guard i > fractionStart else { return nil }
            }
        }
        var offsetSeconds = 0
        if i < b.count {
            if expect("Zz") {
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2) else { return nil }
                offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
            } else {
                return nil
            }
        }
        guard i == b.count, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 - offsetSeconds) + second
        return Date(timeIntervalSince1970: seconds)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
