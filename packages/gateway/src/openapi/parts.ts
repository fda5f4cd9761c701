/** Building blocks shared by the OpenAPI documents of every API. */

/** A JSON response whose body is the named schema of `components.schemas`. */
export function jsonResponse(description: string, schema: string): Record<string, unknown> {
  return { description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } };
}

/** A required string path parameter. */
export function pathParam(name: string, description?: string): Record<string, unknown> {
  return { name, in: 'path', required: true, ...(description ? { description } : {}), schema: { type: 'string' } };
}

/** An optional query parameter of the given JSON type. */
export function queryParam(name: string, type: string, description: string): Record<string, unknown> {
  return { name, in: 'query', required: false, description, schema: { type } };
}
