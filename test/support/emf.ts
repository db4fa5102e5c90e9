/** An embedded-metric-format record (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html). */
export interface EmfRecord {
  readonly _aws: {
    readonly CloudWatchMetrics: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: ReadonlyArray<{ readonly Name: string }>;
    }>;
  };
  readonly [key: string]: unknown;
}

/** The EMF records among a function's output lines. */
export function emfRecords(output: string): EmfRecord[] {
  return output.split('\n').flatMap((line) => {
    if (!line.includes('"CloudWatchMetrics"')) return [];
    return [JSON.parse(line.slice(line.indexOf('{'))) as EmfRecord];
  });
}

/** One metric data point as CloudWatch reads it from an EMF record: namespace, name, dimensions and value. */
export interface EmittedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, string>;
}

/** Every metric in a function's output, with the dimensions of its directive resolved from the record. */
export function emittedMetrics(output: string): EmittedMetric[] {
  return emfRecords(output).flatMap((record) =>
    record._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((metric) => ({
        namespace: directive.Namespace,
        name: metric.Name,
        dimensions: Object.fromEntries(directive.Dimensions.flat().map((name) => [name, String(record[name])])),
      })),
    ),
  );
}
