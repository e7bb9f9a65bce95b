/**
 * Alibaba Cloud region ids (DescribeRegions), as data. A request for any other `RegionId` gets the
 * API's `InvalidRegionId.NotFound`. Regions Alibaba has opened and later closed stay listed: tags
 * imported for them must stay reachable.
 */
export const ALIBABA_REGIONS: ReadonlySet<string> = new Set([
  // Chinese mainland
  "cn-qingdao",
  "cn-beijing",
  "cn-zhangjiakou",
  "cn-huhehaote",
  "cn-wulanchabu",
  "cn-hangzhou",
  "cn-shanghai",
  "cn-nanjing",
  "cn-fuzhou",
  "cn-wuhan-lr",
  "cn-shenzhen",
  "cn-heyuan",
  "cn-guangzhou",
  "cn-chengdu",
  // Finance and government clouds
  "cn-hangzhou-finance",
  "cn-shanghai-finance-1",
  "cn-shenzhen-finance-1",
  "cn-beijing-finance-1",
  "cn-north-2-gov-1",
  // Outside the Chinese mainland
  "cn-hongkong",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-5",
  "ap-southeast-6",
  "ap-southeast-7",
  "ap-south-1",
  "us-east-1",
  "us-west-1",
  "na-south-1",
  "eu-west-1",
  "eu-central-1",
  "me-east-1",
  "me-central-1",
]);

export function isAlibabaRegion(region: string): boolean {
  return ALIBABA_REGIONS.has(region);
}
