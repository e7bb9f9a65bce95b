/**
 * The services the Resource Groups Tagging API can tag, by ARN namespace, from the seed's list
 * "Services that support the Resource Groups Tagging API" (004_2443efe6028210fb.txt).
 *
 * - `types`: when set, only these resource types are taggable ("IAM – at this time, you can tag only
 *   the following IAM resources", "Amazon S3 (buckets only)", "AWS IoT 1-Click – projects, devices").
 * - `bareType`: the resource type of an ARN whose resource part is a bare name
 *   (`arn:aws:s3:::bucket`, `arn:aws:sns:us-east-1:123456789012:topic`).
 * - `pathType`: for a service whose resource part never starts with a type, the type of a resource
 *   part holding a `/` or `:` — S3's `arn:aws:s3:::bucket/key` is an object, not type `bucket`.
 * - `global`: the service's ARNs carry no region; its resources live in the partition's home region.
 */
export interface AwsServiceInfo {
  types?: readonly string[];
  bareType?: string;
  pathType?: string;
  global?: boolean;
}

const plain: AwsServiceInfo = {};

export const AWS_TAGGABLE_SERVICES: Readonly<Record<string, AwsServiceInfo>> = {
  amplify: plain,
  apigateway: plain,
  appflow: plain,
  appstream: plain,
  appsync: plain,
  appmesh: plain,
  athena: plain,
  auditmanager: plain,
  autoscaling: plain,
  backup: plain,
  batch: plain,
  braket: plain,
  acm: plain,
  "acm-pca": plain,
  cloud9: plain,
  clouddirectory: plain,
  servicediscovery: plain,
  cloudformation: plain,
  cloudfront: { global: true },
  cloudhsm: plain,
  cloudtrail: plain,
  cloudwatch: { types: ["alarm"] },
  events: plain,
  logs: plain,
  synthetics: plain,
  codeartifact: plain,
  codebuild: plain,
  codecommit: { bareType: "repository" },
  codedeploy: plain,
  "codeguru-profiler": plain,
  "codeguru-reviewer": plain,
  codepipeline: { bareType: "pipeline" },
  codestar: plain,
  "codestar-connections": plain,
  codeconnections: plain,
  "cognito-identity": plain,
  "cognito-idp": plain,
  comprehend: plain,
  config: plain,
  connect: plain,
  dataexchange: plain,
  dlm: plain,
  datapipeline: plain,
  dms: plain,
  datasync: plain,
  devicefarm: plain,
  directconnect: plain,
  ds: plain,
  dynamodb: plain,
  ec2: plain,
  imagebuilder: plain,
  ecr: plain,
  ecs: plain,
  eks: plain,
  elasticbeanstalk: plain,
  elasticfilesystem: plain,
  elasticloadbalancing: plain,
  "elastic-inference": plain,
  elasticache: plain,
  medialive: plain,
  mediapackage: plain,
  "mediapackage-vod": plain,
  mediatailor: plain,
  elasticmapreduce: plain,
  "emr-containers": plain,
  schemas: plain,
  fms: plain,
  forecast: plain,
  frauddetector: plain,
  fsx: plain,
  gamelift: plain,
  glacier: plain,
  globalaccelerator: { global: true },
  groundstation: plain,
  glue: plain,
  guardduty: plain,
  iam: {
    global: true,
    types: [
      "instance-profile",
      "mfa",
      "oidc-provider",
      "policy",
      "role",
      "saml-provider",
      "server-certificate",
      "user",
    ],
  },
  "access-analyzer": plain,
  inspector: plain,
  ivs: plain,
  iotanalytics: plain,
  iot: plain,
  iotevents: plain,
  greengrass: plain,
  iot1click: { types: ["projects", "devices"] },
  iotsitewise: plain,
  iotthingsgraph: plain,
  iotwireless: plain,
  kendra: plain,
  kms: plain,
  kinesis: plain,
  kinesisanalytics: plain,
  firehose: plain,
  lambda: plain,
  lex: plain,
  "aws-marketplace": plain,
  "license-manager": plain,
  lightsail: plain,
  macie: plain,
  macie2: plain,
  machinelearning: plain,
  managedblockchain: plain,
  mediaconnect: plain,
  mq: plain,
  kafka: plain,
  "neptune-db": plain,
  networkmanager: { global: true },
  es: plain,
  opsworks: plain,
  "opsworks-cm": plain,
  organizations: { global: true },
  outposts: plain,
  mobiletargeting: plain,
  qbusiness: plain,
  qldb: plain,
  rds: plain,
  redshift: plain,
  ram: plain,
  "resource-groups": plain,
  robomaker: plain,
  route53: { global: true },
  route53resolver: plain,
  s3: { types: ["bucket"], bareType: "bucket", pathType: "object" },
  sagemaker: plain,
  savingsplans: { global: true },
  secretsmanager: plain,
  securityhub: plain,
  servicecatalog: plain,
  catalog: plain,
  servicequotas: plain,
  ses: plain,
  sns: { bareType: "topic" },
  sqs: { bareType: "queue" },
  swf: plain,
  states: plain,
  storagegateway: plain,
  ssm: plain,
  transfer: plain,
  ec2vpc: plain,
  waf: { global: true },
  "waf-regional": plain,
  wafv2: plain,
  workspaces: plain,
  xray: plain,
};

/** The service's entry, looked up as data: names of Object.prototype are not services. */
export function awsService(name: string): AwsServiceInfo | undefined {
  return Object.hasOwn(AWS_TAGGABLE_SERVICES, name) ? AWS_TAGGABLE_SERVICES[name] : undefined;
}

/** The region that holds a partition's global resources (IAM, CloudFront, Route 53, …). */
export const PARTITION_HOME_REGION: Readonly<Record<string, string>> = {
  aws: "us-east-1",
  "aws-cn": "cn-north-1",
  "aws-us-gov": "us-gov-west-1",
};

export function partitionOfRegion(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}
