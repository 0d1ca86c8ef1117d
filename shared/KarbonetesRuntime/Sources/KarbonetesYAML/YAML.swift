public import Foundation

/// YAML for configuration: kubeconfig files, manifests and the services' config files.
///
/// Parsing goes through libyaml's event parser; scalars are typed by the YAML 1.2 core schema.
/// Decoding goes through JSON (`JSONDecoder`), so any `Codable` type that reads the JSON form
/// of a Kubernetes object also reads its YAML form.
public enum YAML {
    /// One document; an empty text is `null`, more than one document is an error.
    public static func parse(_ text: String, file: String? = nil) throws -> YAMLValue {
        try single(parseDocuments(text, file: file), file: file)
    }

    /// Every document of a multi-document text (`---` separated), in order.
    public static func parseDocuments(_ text: String, file: String? = nil) throws -> [YAMLValue] {
        try parseDocuments(bytes: Array(text.utf8), file: file)
    }

    public static func parseDocuments(_ data: Data, file: String? = nil) throws -> [YAMLValue] {
        try parseDocuments(bytes: Array(data), file: file)
    }

    /// The JSON form of one document, for `JSONDecoder` or for sending to the API server.
    public static func jsonData(from text: String, file: String? = nil) throws -> Data {
        try attach(file) { try parse(text, file: file).jsonData() }
    }

    public static func jsonData(from data: Data, file: String? = nil) throws -> Data {
        try attach(file) { try single(parseDocuments(data, file: file), file: file).jsonData() }
    }

    /// Decodes one document into a `Decodable` type; a decoding error says where in the
    /// document (`clusters[0].cluster.server`) the value did not fit.
    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        from text: String,
        file: String? = nil,
        decoder: JSONDecoder = JSONDecoder()
    ) throws -> Value {
        try decode(type, json: jsonData(from: text, file: file), file: file, decoder: decoder)
    }

    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        from data: Data,
        file: String? = nil,
        decoder: JSONDecoder = JSONDecoder()
    ) throws -> Value {
        try decode(type, json: jsonData(from: data, file: file), file: file, decoder: decoder)
    }

    /// Reads and decodes a file; every error names it.
    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        contentsOfFile path: String,
        decoder: JSONDecoder = JSONDecoder()
    ) throws -> Value {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw YAMLError.unreadable("cannot read the file: \(error.localizedDescription)").attaching(file: path)
        }
        return try decode(type, from: data, file: path, decoder: decoder)
    }

    private static func parseDocuments(bytes: [UInt8], file: String?) throws -> [YAMLValue] {
        try attach(file) { try YAMLEventParser(bytes).parseDocuments() }
    }

    private static func single(_ documents: [YAMLValue], file: String?) throws -> YAMLValue {
        switch documents.count {
        case 0: return .null
        case 1: return documents[0]
        default: throw attachFile(YAMLError.documentCount(documents.count), file)
        }
    }

    private static func decode<Value: Decodable>(
        _ type: Value.Type,
        json: Data,
        file: String?,
        decoder: JSONDecoder
    ) throws -> Value {
        do {
            return try decoder.decode(type, from: json)
        } catch let error as DecodingError {
            throw attachFile(YAMLError.decoding(describe(error)), file)
        }
    }

    private static func attach<Result>(_ file: String?, _ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let error as YAMLError {
            throw attachFile(error, file)
        }
    }

    private static func attachFile(_ error: YAMLError, _ file: String?) -> YAMLError {
        guard let file, error.file == nil else { return error }
        return error.attaching(file: file)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var out = ""
            for key in codingPath {
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return out.isEmpty ? "the document" : out
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "at \(path(context.codingPath)): expected \(type): \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "at \(path(context.codingPath)): missing \(type) value"
        case .keyNotFound(let key, let context):
            return "at \(path(context.codingPath)): missing key \(key.stringValue)"
        case .dataCorrupted(let context):
            return "at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
